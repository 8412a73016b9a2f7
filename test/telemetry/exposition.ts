/** One sample of the Prometheus text format. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Every sample of metric `name` in an exposition text. */
export function samples(text: string, name: string): Sample[] {
  const found: Sample[] = []
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match || match[1] !== name) continue
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[key!] = value!
    found.push({ name, labels, value: Number(match[3]) })
  }
  return found
}

/** The value of the one sample of `name` whose labels include `labels`; throws when there is none. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const matching = samples(text, name).filter((s) =>
    Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  )
  if (matching.length !== 1)
    throw new Error(`${matching.length} samples of ${name} ${JSON.stringify(labels)}`)
  return matching[0]!.value
}

/** The names of the metrics an exposition text declares (`# TYPE` lines). */
export function metricNames(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].map((m) => m[1]!))
}
