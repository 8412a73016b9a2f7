/**
 * Charts drawn as inline SVG, with nothing to download: stacked bars of deliveries per bucket, lines
 * of the time to deliver, and the timeline of a retry schedule. Colours come from the stylesheet
 * (classes); every chart has a text label, and each bar or point a title.
 */
import { s } from './dom.js'
import * as format from './format.js'

const width = 640
const height = 180
const margin = { top: 10, right: 8, bottom: 22, left: 52 }
const plot = { width: width - margin.left - margin.right, height: height - margin.top - margin.bottom }

/** The smallest of 1, 2, 5, 10, 20, 50… that is at least `value`. */
export function niceCeiling(value) {
  if (!(value > 0)) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  return ([1, 2, 5, 10].find((step) => step * power >= value - 1e-9) ?? 10) * power
}

function frame(label, children, frameHeight = height) {
  return s(
    'svg',
    { viewBox: `0 0 ${width} ${frameHeight}`, class: 'chart', role: 'img', 'aria-label': label },
    s('title', {}, label),
    children,
  )
}

/** Horizontal grid lines with their values on the left, at 0, half and the top. */
function grid(top, formatValue) {
  return [0, 0.5, 1].map((fraction) => {
    const y = margin.top + plot.height * (1 - fraction)
    return s(
      'g',
      { class: 'grid' },
      s('line', { x1: margin.left, x2: width - margin.right, y1: y, y2: y }),
      s('text', { x: margin.left - 6, y: y + 4, 'text-anchor': 'end' }, formatValue(top * fraction)),
    )
  })
}

/** Times under the first bucket, the middle one and the end of the window (with the day for a long one). */
function timeAxis(buckets, until) {
  const at = (index) => margin.left + (plot.width * index) / buckets.length
  const long = new Date(until) - new Date(buckets[0]?.start ?? until) > 12 * 3_600_000
  const label = long ? format.dayClock : format.clock
  const marks = [
    [0, buckets[0]?.start],
    [Math.floor(buckets.length / 2), buckets[Math.floor(buckets.length / 2)]?.start],
    [buckets.length, until],
  ]
  return marks.map(([index, time], i) =>
    s(
      'text',
      {
        class: 'axis',
        x: at(index),
        y: height - 6,
        'text-anchor': i === 0 ? 'start' : i === 2 ? 'end' : 'middle',
      },
      time ? label(time) : '',
    ),
  )
}

/**
 * Deliveries per bucket, stacked by what became of them. `series` are `{ key, label }`; each bar is
 * drawn with the class `series-<key>`.
 */
export function barChart({ buckets, until, series, label }) {
  const top = niceCeiling(
    Math.max(1, ...buckets.map((b) => series.reduce((sum, { key }) => sum + b[key], 0))),
  )
  const slot = plot.width / buckets.length
  const bars = buckets.map((bucket, index) => {
    let base = margin.top + plot.height
    const parts = series
      .filter(({ key }) => bucket[key] > 0)
      .map(({ key }) => {
        const barHeight = (bucket[key] / top) * plot.height
        base -= barHeight
        return s('rect', {
          class: `series-${key}`,
          x: margin.left + index * slot + slot * 0.1,
          y: base,
          width: Math.max(slot * 0.8, 1),
          height: barHeight,
        })
      })
    const counts = series.map(({ key, label: name }) => `${bucket[key]} ${name}`).join(', ')
    return s('g', {}, s('title', {}, `${format.clock(bucket.start)}: ${counts}`), parts)
  })
  return frame(label, [grid(top, (value) => format.decimal(value)), bars, timeAxis(buckets, until)])
}

/** Durations a logarithmic time axis marks, in milliseconds: 1 ms to 30 days. */
const timeTicks = [
  1, 10, 100, 1000, 10_000, 60_000, 600_000, 3_600_000, 36_000_000, 86_400_000, 604_800_000, 2_592_000_000,
]

/**
 * Lines of durations per bucket (milliseconds), broken where a bucket has none. The scale is
 * logarithmic, so that a median of milliseconds and a 99th percentile of minutes are both readable.
 */
export function lineChart({ buckets, until, series, label }) {
  const values = buckets.flatMap((bucket) => series.map(({ key }) => bucket[key]).filter((v) => v !== null))
  // From the tick at or below the least value to the first above it and at or above the most.
  const least = Math.max(1, Math.min(...values, 10))
  const most = Math.max(10, ...values)
  const first = timeTicks.findLast((tick) => tick <= least) ?? timeTicks[0]
  const last = timeTicks.find((tick) => tick > first && tick >= most) ?? timeTicks.at(-1)
  const ticks = timeTicks.filter((tick) => tick >= first && tick <= last)
  const low = Math.log10(ticks[0])
  const high = Math.log10(ticks.at(-1))
  const slot = plot.width / buckets.length
  const x = (index) => margin.left + slot * (index + 0.5)
  const y = (value) => margin.top + plot.height * (1 - (Math.log10(Math.max(value, 1)) - low) / (high - low))
  const gridLines = ticks.map((value) =>
    s(
      'g',
      { class: 'grid' },
      s('line', { x1: margin.left, x2: width - margin.right, y1: y(value), y2: y(value) }),
      s('text', { x: margin.left - 6, y: y(value) + 4, 'text-anchor': 'end' }, format.shortMs(value)),
    ),
  )
  const lines = series.map(({ key, label: name }) => {
    let path = ''
    let drawing = false
    const points = []
    buckets.forEach((bucket, index) => {
      const value = bucket[key]
      if (value === null) {
        drawing = false
        return
      }
      path += `${drawing ? 'L' : 'M'}${x(index).toFixed(1)},${y(value).toFixed(1)}`
      drawing = true
      points.push(
        s(
          'circle',
          { cx: x(index), cy: y(value), r: 2.5 },
          s('title', {}, `${format.clock(bucket.start)}: ${name} ${format.ms(value)}`),
        ),
      )
    })
    return s('g', { class: `series-${key}` }, s('path', { d: path }), points)
  })
  return frame(label, [gridLines, lines, timeAxis(buckets, until)])
}

/**
 * A retry schedule on one line: the first attempt at 0, then each retry when it comes (with the
 * range a random countdown may place it in). The scale is the square root of time, so that early
 * retries stay apart from late ones.
 */
export function timeline({ retries, label }) {
  const end = Math.max(1, ...retries.map((retry) => retry.at_max_seconds))
  const x = (seconds) => margin.left + plot.width * Math.sqrt(seconds / end)
  const line = 34
  const marks = [{ attempt: 1, at_seconds: 0, at_min_seconds: 0, at_max_seconds: 0 }, ...retries]
  let lastLabel = Number.NEGATIVE_INFINITY
  const drawn = marks.map((mark) => {
    const cx = x(mark.at_seconds)
    const ranged = mark.at_max_seconds > mark.at_min_seconds
    const showLabel = cx - lastLabel >= 26
    if (showLabel) lastLabel = cx
    return s(
      'g',
      { class: 'mark' },
      s('title', {}, `Attempt ${mark.attempt}: ${format.seconds(mark.at_seconds)} after the first`),
      ranged
        ? s('rect', {
            class: 'range',
            x: x(mark.at_min_seconds),
            y: line - 7,
            width: Math.max(x(mark.at_max_seconds) - x(mark.at_min_seconds), 1),
            height: 14,
          })
        : null,
      s('circle', { cx, cy: line, r: 5 }),
      showLabel ? s('text', { x: cx, y: line - 14, 'text-anchor': 'middle' }, String(mark.attempt)) : null,
    )
  })
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((fraction) => {
    const seconds = end * fraction ** 2
    return s(
      'g',
      { class: 'grid' },
      s('line', { x1: x(seconds), x2: x(seconds), y1: line + 10, y2: line + 16 }),
      s(
        'text',
        {
          x: x(seconds),
          y: line + 32,
          'text-anchor': fraction === 0 ? 'start' : fraction === 1 ? 'end' : 'middle',
        },
        format.seconds(seconds),
      ),
    )
  })
  return frame(
    label,
    [
      s('line', { class: 'axis-line', x1: margin.left, x2: width - margin.right, y1: line, y2: line }),
      ticks,
      drawn,
    ],
    line + 42,
  )
}
