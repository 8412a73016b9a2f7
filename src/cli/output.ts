/** Prints rows as an aligned text table, or as JSON lines with `json`. */
export function printTable(
  rows: Record<string, unknown>[],
  columns: string[],
  options: { json?: boolean; write?: (text: string) => void } = {},
): void {
  const write = options.write ?? ((text: string) => process.stdout.write(text))
  if (options.json) {
    write(`${JSON.stringify(rows, null, 2)}\n`)
    return
  }
  if (rows.length === 0) {
    write('(none)\n')
    return
  }
  const cell = (value: unknown) =>
    value === null || value === undefined ? '-' : value instanceof Date ? value.toISOString() : String(value)
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => cell(row[column]).length)),
  )
  const line = (values: string[]) =>
    `${values
      .map((value, i) => value.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()}\n`
  write(line(columns))
  write(line(widths.map((width) => '-'.repeat(width))))
  for (const row of rows) write(line(columns.map((column) => cell(row[column]))))
}

/**
 * A progress bar on stderr: redrawn in place on a terminal, a line every 10% otherwise (logs, CI).
 */
export function progressBar(total: number, label: string): { update(done: number): void; finish(): void } {
  const tty = Boolean(process.stderr.isTTY)
  let lastTenth = -1
  const render = (done: number) => {
    const ratio = total === 0 ? 1 : Math.min(1, done / total)
    if (tty) {
      const width = 30
      const filled = Math.round(ratio * width)
      process.stderr.write(
        `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} (${Math.round(ratio * 100)}%)`,
      )
    } else {
      const tenth = Math.floor(ratio * 10)
      if (tenth !== lastTenth) {
        lastTenth = tenth
        process.stderr.write(`${label}: ${done}/${total} (${tenth * 10}%)\n`)
      }
    }
  }
  render(0)
  return {
    update: render,
    finish() {
      render(total)
      if (tty) process.stderr.write('\n')
    },
  }
}
