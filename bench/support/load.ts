import { cpus } from 'node:os'
import type { ReceiverStats } from './receiver-client.ts'

/** CPU time of all cores so far (ms): busy, and in all. */
export function machineTimes(): { busy: number; total: number } {
  let busy = 0
  let total = 0
  for (const cpu of cpus()) {
    const { user, nice, sys, irq, idle } = cpu.times
    busy += user + nice + sys + irq
    total += user + nice + sys + irq + idle
  }
  return { busy, total }
}

/** The share of all cores busy since `since` (0–1). */
export function machineBusySince(since: { busy: number; total: number }): number {
  const now = machineTimes()
  return (now.busy - since.busy) / Math.max(1, now.total - since.total)
}

/**
 * How busy the receiver (of one core) and the whole machine were while measuring. A receiver near
 * 100% would be the bottleneck; a machine near 100% means the cores were the limit, and a busy
 * machine with an idle engine means something else was running.
 */
export function loadNote(receiver: ReceiverStats | null, machineBusy: number | null): string {
  const parts: string[] = []
  if (receiver)
    parts.push(`receiver ${Math.round((receiver.cpuMicros / 1000 / receiver.sinceResetMs) * 100)}% of a core`)
  if (machineBusy !== null)
    parts.push(`machine ${Math.round(machineBusy * 100)}% busy (${cpus().length} cores)`)
  return parts.join(', ')
}
