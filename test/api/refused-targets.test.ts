import { expect, test } from 'vitest'
import { forEachDatabase } from '../support/databases.ts'
import { publicAddresses, refusedTargets } from '../support/refused-targets.ts'
import { apiOf, expectError } from './support.ts'

forEachDatabase((db) => {
  // The first test of a file also opens the database, which is slow on a busy machine.
  test(`POST hooks/ refuses ${refusedTargets.length} internal, reserved and embedded-IPv4 targets`, async () => {
    expect(refusedTargets.length).toBeGreaterThanOrEqual(60)
    const whisperer = await db.whisperer({ allowedTargets: [] })
    whisperer.eventTypes.register({ type: 'order-created' })
    const call = apiOf(whisperer)
    const accepted: string[] = []
    for (const { url } of refusedTargets) {
      const response = await call('POST', 'hooks/', {
        json: { event_type: 'order-created', target_url: url },
      })
      if (response.status !== 400) accepted.push(`${url}: ${response.status}`)
      else {
        expectError(response, 400, 'validation_error')
        expect(response.body.errors.target_url).toEqual([expect.stringMatching(/not allowed/)])
      }
    }
    expect(accepted).toEqual([])
    expect((await call('GET', 'hooks/')).body.results).toEqual([])
  }, 120_000)

  test('POST hooks/ accepts public addresses, in every embedded-IPv4 form', async () => {
    const whisperer = await db.whisperer({ allowedTargets: [] })
    whisperer.eventTypes.register({ type: 'order-created' })
    const call = apiOf(whisperer)
    for (const address of publicAddresses) {
      const host = address.includes(':') ? `[${address}]` : address
      const response = await call('POST', 'hooks/', {
        json: { event_type: 'order-created', target_url: `https://${host}/hook` },
      })
      expect({ address, status: response.status }).toEqual({ address, status: 201 })
    }
  }, 120_000)
})
