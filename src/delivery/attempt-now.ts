import type { DeliveryStatus } from '../core/delivery-state.ts'
import type { ClaimedDelivery, Store } from '../storage/store.ts'
import { type AttemptContext, type AttemptReport, runAttempt } from './attempt.ts'
import type { Recorder } from './recorder.ts'

/**
 * Attempts claimed deliveries right away, at most `concurrency` at a time, and resolves once every
 * outcome is stored and its callback has run: `deliverEvent(..., { async: false })` and manual
 * retries. Returns each report with the status its delivery was stored with (a retry is cancelled
 * if the webhook stopped being active meanwhile).
 */
export async function attemptNow(params: {
  deliveries: ClaimedDelivery[]
  context: AttemptContext
  recorder: Recorder
  store: Store
  concurrency: number
  instance?: unknown
}): Promise<{ report: AttemptReport; status: DeliveryStatus }[]> {
  const reports: AttemptReport[] = new Array(params.deliveries.length)
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < params.deliveries.length) {
      const index = next++
      const metrics = params.context.metrics
      metrics?.inFlight(1)
      const report = await runAttempt(params.deliveries[index]!, params.context).finally(() =>
        metrics?.inFlight(-1),
      )
      await params.recorder.record(report, { instance: params.instance, waitForCallback: true })
      reports[index] = report
    }
  }
  await Promise.all(Array.from({ length: Math.min(params.concurrency, params.deliveries.length) }, lane))
  if (reports.length === 0) return []
  const statuses = await params.store.deliveryStatuses({ ids: reports.map((report) => report.delivery.id) })
  return reports.map((report) => ({
    report,
    status: statuses.get(report.delivery.id) ?? report.transition.status,
  }))
}
