/** Nearest-rank percentiles of `values` (any order); null for none. */
export function percentiles(values: number[], quantiles: number[]): (number | null)[] {
  if (values.length === 0) return quantiles.map(() => null)
  const sorted = Float64Array.from(values).sort()
  return quantiles.map(
    (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!,
  )
}

/** The mean of some values; null for none. */
export function mean(values: number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length
}

/** `a` as a percentage of `b`; null when either is missing or `b` is 0. */
export function percentOf(a: number | null, b: number | null): number | null {
  return a !== null && b !== null && b > 0 ? (a / b) * 100 : null
}
