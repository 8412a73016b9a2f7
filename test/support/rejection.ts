import type { WhispererError } from '../../src/core/errors.ts'

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<WhispererError> {
  try {
    await promise
  } catch (error) {
    return error as WhispererError
  }
  throw new Error('expected a rejection')
}
