import type { Metric, ScenarioResult, Target } from './result.ts'

const columns = ['scenario', 'db', 'variant', 'measure', 'value', 'target', 'met', 'notes'] as const

const grouped = (n: number) => Math.round(n).toLocaleString('en-US')

export function formatValue(m: Metric): string {
  if (m.text !== undefined) return m.text
  if (m.value === null) return '–'
  const v = m.value
  switch (m.unit) {
    case '/s':
      return `${grouped(v)}/s`
    case 'ms':
      return `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`
    case 's':
      return `${v.toFixed(2)} s`
    case 'µs':
      return `${grouped(v)} µs`
    case 'MB':
      return `${grouped(v)} MB`
    case '%':
      return `${v.toFixed(1)}%`
    default:
      return v < 10 ? v.toFixed(2) : grouped(v)
  }
}

export function formatTarget(target: Target | undefined, unit: string): string {
  if (!target) return ''
  if (target.op === '=') return 'equal'
  const op = { '>=': '≥', '<=': '≤', '<': '<' }[target.op]
  const value = target.value >= 1000 ? grouped(target.value) : String(target.value)
  const suffix = unit === '/s' ? '/s' : unit === '%' ? '%' : unit ? ` ${unit}` : ''
  return `${op} ${value}${suffix}`
}

function formatMet(m: Metric): string {
  if (!m.target) return ''
  if (m.met === null || m.met === undefined) return 'n/a'
  return m.met ? 'met' : 'MISSED'
}

/** The table's rows: one per figure, the run's status and notes on its first row. */
export function tableRows(results: ScenarioResult[]): string[][] {
  const rows: string[][] = []
  for (const r of results) {
    const status = r.status === 'ok' ? [] : [r.status.toUpperCase()]
    const notes = [...status, ...(r.error ? [r.error] : []), ...r.notes].join('; ')
    if (r.metrics.length === 0) {
      rows.push([r.scenario, r.db, r.variant, '', '', '', '', notes])
      continue
    }
    r.metrics.forEach((m, i) => {
      rows.push([
        i === 0 ? r.scenario : '',
        i === 0 ? r.db : '',
        i === 0 ? r.variant : '',
        m.label,
        formatValue(m),
        formatTarget(m.target, m.unit),
        formatMet(m),
        i === 0 ? notes : '',
      ])
    })
  }
  return rows
}

/** A plain-text table for the terminal. */
export function textTable(results: ScenarioResult[]): string {
  const rows = tableRows(results)
  const header = [...columns]
  const widths = header.map((h, c) =>
    Math.max(h.length, ...rows.map((row) => (c === 7 ? 0 : row[c]!.length))),
  )
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === 4 ? cell.padStart(widths[c]!) : c === 7 ? cell : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd()
  const out = [line(header), line(widths.map((w) => '-'.repeat(w)))]
  let first = true
  for (const row of rows) {
    if (row[0] && !first) out.push('')
    first = false
    out.push(line(row))
  }
  return out.join('\n')
}

/** The same table in Markdown. */
export function markdownTable(results: ScenarioResult[]): string {
  const escapeCell = (cell: string) => cell.replaceAll('|', '\\|')
  const rows = tableRows(results)
  return [
    `| ${columns.join(' | ')} |`,
    `|${columns.map((c) => (c === 'value' ? '---:' : '---')).join('|')}|`,
    ...rows.map((row) => `| ${row.map(escapeCell).join(' | ')} |`),
  ].join('\n')
}
