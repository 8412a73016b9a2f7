/** Nearest-rank percentiles of `values` (any order); null for none. */
export function percentiles(values: number[], quantiles: number[]): (number | null)[] {
  if (values.length === 0) return quantiles.map(() => null)
  const sorted = Float64Array.from(values).sort()
  return quantiles.map(
    (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!,
  )
}
