import type { ClaimedDelivery } from '../storage/store.ts'
import { type AttemptContext, type AttemptReport, runAttempt } from './attempt.ts'
import type { Recorder } from './recorder.ts'

/**
 * Attempts claimed deliveries right away, at most `concurrency` at a time, and resolves once every
 * outcome is stored and its callback has run: `deliverEvent(..., { async: false })` and manual retries.
 */
export async function attemptNow(params: {
  deliveries: ClaimedDelivery[]
  context: AttemptContext
  recorder: Recorder
  concurrency: number
  instance?: unknown
}): Promise<AttemptReport[]> {
  const reports: AttemptReport[] = new Array(params.deliveries.length)
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < params.deliveries.length) {
      const index = next++
      const report = await runAttempt(params.deliveries[index]!, params.context)
      await params.recorder.record(report, { instance: params.instance, waitForCallback: true })
      reports[index] = report
    }
  }
  await Promise.all(Array.from({ length: Math.min(params.concurrency, params.deliveries.length) }, lane))
  return reports
}
