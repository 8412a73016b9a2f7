/** Attempts are partitioned by week: Monday 00:00 UTC to the next Monday. */
export const weekMs = 7 * 24 * 3600 * 1000

/** The start of the week (Monday 00:00 UTC) that contains `time`. */
export function weekStart(time: Date): Date {
  const day = new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate()))
  const sinceMonday = (day.getUTCDay() + 6) % 7
  return new Date(day.getTime() - sinceMonday * 24 * 3600 * 1000)
}

/** One weekly partition: its table name (`attempts_20261123`) and bounds. */
export interface WeekPartition {
  name: string
  from: Date
  to: Date
}

export function weekPartition(start: Date): WeekPartition {
  const name = `attempts_${start.toISOString().slice(0, 10).replaceAll('-', '')}`
  return { name, from: start, to: new Date(start.getTime() + weekMs) }
}

/** The weekly partitions that cover `[from, to]`. */
export function partitionsCovering(from: Date, to: Date): WeekPartition[] {
  const partitions: WeekPartition[] = []
  for (
    let start = weekStart(from);
    start.getTime() <= to.getTime();
    start = new Date(start.getTime() + weekMs)
  ) {
    partitions.push(weekPartition(start))
  }
  return partitions
}

/** The week start encoded in a partition's name, or null for a name that is not one. */
export function partitionStart(name: string): Date | null {
  const match = /^attempts_(\d{4})(\d{2})(\d{2})$/.exec(name)
  return match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null
}

/** Attempt partitions exist this far ahead of the clock (4 weeks). */
export const partitionsAheadMs = 4 * weekMs

/**
 * The attempt times whose weekly partitions should exist at `now`: from the week of `now` to four
 * weeks ahead. Start-up, maintenance and the recorder all ask this. It reaches no further back:
 * maintenance drops expired weeks, and a past week asked for again would be made and dropped at
 * every pass. An attempt from an earlier week (a clock far off) gets its partition from the
 * recorder, which asks for the span at that attempt's time.
 */
export function attemptPartitionSpan(now: Date): { from: Date; to: Date } {
  return { from: now, to: new Date(now.getTime() + partitionsAheadMs) }
}
