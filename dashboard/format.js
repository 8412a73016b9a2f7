/** How times, durations and numbers read on the dashboard. */

const pad = (n) => String(n).padStart(2, '0')

/** A date-time in the browser's time zone: `2026-01-01 10:05:30`. */
export function dateTime(value) {
  if (!value) return '—'
  const date = new Date(value)
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
}

/** A clock time: `10:05`. */
export function clock(value) {
  const date = new Date(value)
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`
}

/** A day and a clock time: `Nov 22, 10:05` (in the browser's language). */
export function dayClock(value) {
  const date = new Date(value)
  return `${date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })}, ${clock(date)}`
}

/** A duration in seconds, in the largest units that fit: `45 s`, `2 min 5 s`, `3 h 20 min`, `2 d 4 h`. */
export function seconds(total) {
  if (total === null || total === undefined) return '—'
  const value = Math.round(total)
  if (value < 60) return `${value} s`
  const parts = [
    [Math.floor(value / 86400), 'd'],
    [Math.floor(value / 3600) % 24, 'h'],
    [Math.floor(value / 60) % 60, 'min'],
    [value % 60, 's'],
  ]
  const first = parts.findIndex(([n]) => n > 0)
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n} ${unit}`)
    .join(' ')
}

/** Milliseconds: `85 ms`, `1.2 s`, `3 min 5 s`. */
export function ms(value) {
  if (value === null || value === undefined) return '—'
  if (value < 1000) return `${Math.round(value)} ms`
  if (value < 60_000) return `${(value / 1000).toFixed(1)} s`
  return seconds(value / 1000)
}

/** Milliseconds in a few characters, for the axis of a chart: `250 ms`, `45 s`, `12 min`, `3 h`. */
export function shortMs(value) {
  if (value < 1000) return `${Math.round(value)} ms`
  if (value < 60_000) return `${Math.round(value / 1000)} s`
  if (value < 3_600_000) return `${Math.round(value / 60_000)} min`
  if (value < 86_400_000) return `${Math.round(value / 3_600_000)} h`
  return `${Math.round(value / 86_400_000)} d`
}

/** A rate as a percentage: `97.5%`; null reads as a dash. */
export function percent(rate) {
  if (rate === null || rate === undefined) return '—'
  const value = rate * 100
  return `${value === 100 || value === 0 ? value : value.toFixed(1)}%`
}

/** A small number with at most one decimal, or one significant digit below 0.1: `12`, `0.3`, `0.004`. */
export function decimal(value) {
  if (value >= 10 || Number.isInteger(value)) return String(Math.round(value))
  return value < 0.1 ? value.toPrecision(1) : value.toFixed(1)
}

/** JSON, indented for reading. */
export function json(value) {
  return JSON.stringify(value, null, 2)
}
