import type { WhispererOptions } from '../../src/config.ts'
import type { Logger } from '../../src/logger.ts'

/**
 * The engine options every Whisperer of the bench gets, publisher and workers alike. All deliveries
 * go to one loopback host, so the per-host limit is raised to the global one. Everything else is
 * the default.
 */
export const engineOptions = {
  concurrency: 64,
  perHostConcurrency: 64,
  claimBatch: 100,
} as const satisfies WhispererOptions

/** The loopback receiver is a private address: it has to be allowed. */
export const allowedTargets = ['127.0.0.1']

/** The scenarios of a full run (and of `--quick`), in the order it measures them. */
export const scenarioNames = [
  'ceilings',
  'fanout10',
  'fanout1',
  'latency',
  'api',
  'failing',
  'bigfanout',
  'filters',
  'patterns',
  'scrape',
  'metricscost',
  'keycost',
  'ordered',
] as const
/** Scenarios run only when named, and alone: never part of a full or `--quick` run. */
export const separateScenarioNames = ['soak'] as const
export const allScenarioNames = [...scenarioNames, ...separateScenarioNames] as const
export type ScenarioName = (typeof allScenarioNames)[number]

export type DbKind = 'postgres' | 'pglite'

/** How long and how much each scenario measures; `--quick` and `--seconds` change it. */
export interface Plan {
  quick: boolean
  /** Seconds of publishing in the throughput scenarios (fanout10, fanout1, failing). */
  window: number
  /** Seconds of the latency scenario's fixed-rate schedule. */
  latency: number
  /** Offered rate of the latency scenario, deliveries/s. */
  latencyRate: number
  /** Seconds each ceiling loop runs. */
  ceiling: number
  /** Seconds allowed after publishing ends for the queue to drain, before a scenario times out. */
  drain: number
  /** Webhooks of the bigfanout event, and the seconds it may take in all. */
  bigfanoutWebhooks: number
  bigfanoutDeadline: number
  /** Deliveries a throughput scenario publishes at most, whatever its window. */
  maxDeliveries: number
  /** Worker processes of the fanout10 variants on PostgreSQL. */
  fanoutWorkers: number[]
  /** Seconds the soak publishes for, on each database (600; `--seconds` sets it). */
  soak: number
}

export function makePlan(quick: boolean, seconds: number | null): Plan {
  const plan: Plan = quick
    ? {
        quick,
        window: 1,
        latency: 5,
        latencyRate: 1000,
        ceiling: 1,
        drain: 3,
        bigfanoutWebhooks: 1000,
        bigfanoutDeadline: 10,
        maxDeliveries: 200_000,
        fanoutWorkers: [1, 2, 4],
        soak: 600,
      }
    : {
        quick,
        window: 10,
        latency: 20,
        latencyRate: 1000,
        ceiling: 5,
        drain: 30,
        bigfanoutWebhooks: 10_000,
        bigfanoutDeadline: 60,
        maxDeliveries: 2_000_000,
        fanoutWorkers: [1, 2, 4],
        soak: 600,
      }
  if (seconds !== null) {
    plan.window = seconds
    plan.latency = seconds
    plan.ceiling = seconds
    plan.soak = seconds
    plan.drain = Math.max(plan.drain, seconds)
  }
  return plan
}

/** A logger that prints nothing but counts what the engine complained about, keeping a few lines. */
export interface QuietLog {
  logger: Logger
  errors: number
  warnings: number
  samples: string[]
}

export function quietLog(): QuietLog {
  const log: QuietLog = {
    errors: 0,
    warnings: 0,
    samples: [],
    logger: {
      debug() {},
      info() {},
      warn(object, message) {
        log.warnings += 1
        keep('warn', object, message)
      },
      error(object, message) {
        log.errors += 1
        keep('error', object, message)
      },
    },
  }
  const keep = (level: string, object: object, message?: string) => {
    if (log.samples.length >= 3) return
    const err = (object as { err?: { message?: string } }).err
    log.samples.push(`${level}: ${message ?? ''}${err?.message ? ` (${err.message})` : ''}`)
  }
  return log
}

/**
 * The data of an event: about 1 KB of JSON once serialized, with the event number in it so that
 * every event differs.
 */
export function payload(n: number): Record<string, unknown> {
  const base = {
    id: n,
    type: 'package',
    name: `package-${n}`,
    owner: { id: 4242, login: 'bench-owner', plan: 'team' },
    tags: ['bench', 'whisperer', 'webhooks'],
    createdAt: '2025-01-01T00:00:00.000Z',
    description: '',
  }
  const size = JSON.stringify(base).length
  base.description = 'x'.repeat(Math.max(0, 1024 - size))
  return base
}

/** Wall-clock milliseconds comparable across processes, with sub-millisecond precision. */
export const wallNow = (): number => performance.timeOrigin + performance.now()

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Resolves with `promise`, or rejects once `ms` have passed. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${Math.round(ms / 1000)} s`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
