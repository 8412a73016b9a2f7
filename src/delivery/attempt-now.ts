import type { DeliveryStatus } from '../core/delivery-state.ts'
import type { ClaimedDelivery, Store } from '../storage/store.ts'
import {
  type AttemptContext,
  type AttemptReport,
  heldForSecretsMs,
  holdUnopenable,
  runAttempt,
} from './attempt.ts'
import type { Recorder } from './recorder.ts'

/**
 * Attempts claimed deliveries right away, at most `concurrency` at a time, and resolves once every
 * outcome is stored and its callback has run: `deliverEvent(..., { async: false })` and manual
 * retries. Returns each report with the status its delivery was stored with (a retry is cancelled
 * if the webhook stopped being active meanwhile). A delivery whose webhook's secrets cannot be
 * opened is not attempted: it is given back, due in a minute, and has no report.
 */
export async function attemptNow(params: {
  deliveries: ClaimedDelivery[]
  context: AttemptContext
  recorder: Recorder
  store: Store
  concurrency: number
  instance?: unknown
}): Promise<{ report: AttemptReport; status: DeliveryStatus }[]> {
  const { sendable, held } = holdUnopenable(params.deliveries, params.context.logger)
  if (held.length > 0) {
    const at = new Date(params.context.clock().getTime() + heldForSecretsMs)
    await params.store.deliveryRelease({ releases: held.map(({ id, lease }) => ({ id, lease, at })) })
  }
  const reports: AttemptReport[] = new Array(sendable.length)
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < sendable.length) {
      const index = next++
      const metrics = params.context.metrics
      metrics?.inFlight(1)
      const report = await runAttempt(sendable[index]!, params.context).finally(() => metrics?.inFlight(-1))
      await params.recorder.record(report, { instance: params.instance, waitForCallback: true })
      reports[index] = report
    }
  }
  await Promise.all(Array.from({ length: Math.min(params.concurrency, sendable.length) }, lane))
  if (reports.length === 0) return []
  const statuses = await params.store.deliveryStatuses({ ids: reports.map((report) => report.delivery.id) })
  return reports.map((report) => ({
    report,
    status: statuses.get(report.delivery.id) ?? report.transition.status,
  }))
}
