/**
 * The Next.js app's one Whisperer and its API. Next.js may evaluate a module more than once (in
 * development, on every edit), so they are kept on globalThis rather than in a module variable.
 */
import type { ApiHandler, Whisperer } from '../../../src/index.ts'
import { authenticate, createExampleWhisperer } from '../../shared/whisperer.ts'

export interface WhispererApp {
  whisperer: Whisperer
  api: ApiHandler
}

const state = globalThis as typeof globalThis & { whispererApp?: Promise<WhispererApp> }

/** Created on first use, with its worker sending deliveries from this server process. */
export function getWhispererApp(): Promise<WhispererApp> {
  state.whispererApp ??= createExampleWhisperer().then(async (whisperer) => {
    await whisperer.start()
    return { whisperer, api: whisperer.api({ authenticate }) }
  })
  return state.whispererApp
}
