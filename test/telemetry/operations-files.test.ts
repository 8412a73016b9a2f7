import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { expect, test } from 'vitest'
import { parse } from 'yaml'
import { forEachDatabase } from '../support/databases.ts'
import { metricNames } from './exposition.ts'

const rulesFile = new URL('../../docs/operations/prometheus-rules.yml', import.meta.url).pathname
const dashboardFile = new URL('../../docs/operations/grafana-dashboard.json', import.meta.url).pathname

interface Rule {
  alert: string
  expr: string
  for?: string
}

const rules = (parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (group) => group.rules,
)

interface Panel {
  type: string
  targets?: { expr: string }[]
}
const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as { panels: Panel[]; title: string }
const panelExpressions = dashboard.panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => target.expr),
)

/** The metric names an expression reads: Whisperer's and the process and Node.js ones. */
function metricsOf(expression: string): string[] {
  return [...expression.matchAll(/\b((?:whisperer|process|nodejs)_[a-z0-9_]+)\b/g)].map((match) =>
    match[1]!.replace(/_(bucket|count|sum)$/, ''),
  )
}

test('the alert rules cover the backlog, the oldest due delivery, the failure ratio and disabled webhooks', () => {
  const text = rules.map((rule) => rule.expr).join('\n')
  for (const metric of [
    'whisperer_queue_due',
    'whisperer_queue_oldest_due_seconds',
    'whisperer_attempts_total',
    'whisperer_webhooks',
  ])
    expect(text).toContain(metric)
  expect(rules.find((rule) => rule.expr.includes('oldest_due'))?.expr).toMatch(/> 300\b/)
  for (const rule of rules) expect(rule.alert).toMatch(/^Whisperer[A-Z]\w+$/)
})

test.runIf(spawnSync('promtool', ['--version']).status === 0)('promtool accepts the alert rules', () => {
  const checked = spawnSync('promtool', ['check', 'rules', rulesFile], { encoding: 'utf8' })
  expect(checked.stdout + checked.stderr).toContain(`SUCCESS: ${rules.length} rules found`)
  expect(checked.status).toBe(0)
})

test('the dashboard is a Grafana dashboard whose panels all query something', () => {
  expect(dashboard.title).toBe('Whisperer')
  const graphs = dashboard.panels.filter((panel) => panel.type !== 'row')
  expect(graphs.length).toBeGreaterThan(8)
  for (const panel of graphs) expect(panel.targets?.length).toBeGreaterThan(0)
})

forEachDatabase((db) => {
  test('every metric the rules and the dashboard use exists in a real /metrics scrape', async () => {
    const whisperer = await db.whisperer()
    const scraped = metricNames(await whisperer.metrics())
    const used = new Set([...rules.map((rule) => rule.expr), ...panelExpressions].flatMap(metricsOf))
    expect(used.size).toBeGreaterThan(10)
    expect([...used].filter((name) => !scraped.has(name))).toEqual([])
  })
})
