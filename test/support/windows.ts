/** The most requests received in any window of `windowMs` (a sliding window over arrival times). */
export function busiestWindow(times: readonly number[], windowMs = 1000): number {
  const sorted = [...times].sort((a, b) => a - b)
  let most = 0
  let start = 0
  for (let end = 0; end < sorted.length; end += 1) {
    while (sorted[end]! - sorted[start]! >= windowMs) start += 1
    most = Math.max(most, end - start + 1)
  }
  return most
}
