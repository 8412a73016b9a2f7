import { z } from 'zod'
import { type FieldIssue, WhispererError } from './errors.ts'
import { issuesFromZod } from './zod-issues.ts'

/** A webhook's retry schedule, as stored and as sent over the API. */
export interface CountdownConfig {
  choice: string
  kwargs: Record<string, unknown>
}

/** Seconds to wait before retry number `retryCount` (0 = the first retry). */
export type Countdown = (retryCount: number, random: () => number) => number

/** One retry of a schedule: its wait and when it comes, in seconds after the first attempt. */
export interface ScheduledRetry {
  /** 0 for the first retry (the second attempt). */
  retry: number
  waitSeconds: number
  waitMinSeconds: number
  waitMaxSeconds: number
  atSeconds: number
  atMinSeconds: number
  atMaxSeconds: number
}

/** A countdown pattern: the schema of its kwargs and a factory for its schedule. */
export interface CountdownDefinition<K extends Record<string, unknown> = Record<string, unknown>> {
  /** Validates kwargs. Unknown keys are dropped; only the parsed value is stored. */
  kwargs: z.ZodType<K>
  create: (kwargs: K) => Countdown
}

/** dj-whisperer's default, used when a webhook names no countdown. */
export const defaultCountdownConfig: CountdownConfig = {
  choice: 'exponential',
  kwargs: { base: 2, factor: 1 },
}

/** No countdown ever waits longer than this, whatever its formula says (30 days). */
export const maxCountdownSeconds = 30 * 24 * 3600

const count = z.int().min(0)

export const builtInCountdowns = {
  fixed: {
    kwargs: z.object({ seconds: count }),
    create:
      ({ seconds }) =>
      () =>
        seconds,
  } satisfies CountdownDefinition<{ seconds: number }>,
  linear: {
    kwargs: z.object({ base: count, limit: count.nullish() }),
    create:
      ({ base, limit }) =>
      (n) =>
        capped(base * n, limit),
  } satisfies CountdownDefinition<{ base: number; limit?: number | null | undefined }>,
  exponential: {
    kwargs: z.object({ base: count, factor: z.int().min(1).default(1), limit: count.nullish() }),
    create:
      ({ base, factor, limit }) =>
      (n) =>
        capped(base ** n * factor, limit),
  } satisfies CountdownDefinition<{ base: number; factor: number; limit?: number | null | undefined }>,
  random: {
    kwargs: z
      .object({ min_value: count, max_value: count })
      .refine((k) => k.min_value < k.max_value, { message: "'max_value' must be greater than 'min_value'." }),
    create:
      ({ min_value, max_value }) =>
      (_n, random) =>
        min_value + Math.floor(random() * (max_value - min_value + 1)),
  } satisfies CountdownDefinition<{ min_value: number; max_value: number }>,
}

function capped(value: number, limit: number | null | undefined): number {
  return limit === null || limit === undefined ? value : Math.min(value, limit)
}

/** The countdown patterns a Whisperer knows: the four built-in ones and any registered by the host. */
export class CountdownRegistry {
  readonly #definitions = new Map<string, CountdownDefinition>()

  constructor() {
    for (const [choice, definition] of Object.entries(builtInCountdowns)) {
      this.#definitions.set(choice, definition as unknown as CountdownDefinition)
    }
  }

  register<K extends Record<string, unknown>>(choice: string, definition: CountdownDefinition<K>): void {
    if (this.#definitions.has(choice)) {
      throw new WhispererError('countdown_already_registered', `Countdown "${choice}" is already registered`)
    }
    this.#definitions.set(choice, definition as unknown as CountdownDefinition)
  }

  has(choice: string): boolean {
    return this.#definitions.has(choice)
  }

  choices(): string[] {
    return [...this.#definitions.keys()]
  }

  /** Each countdown with the schema of its kwargs, in the order they were registered. */
  list(): { choice: string; kwargs: z.ZodType }[] {
    return [...this.#definitions].map(([choice, definition]) => ({ choice, kwargs: definition.kwargs }))
  }

  /**
   * Checks a countdown config and returns it normalized (kwargs parsed, defaults written, unknown
   * kwargs dropped), or the issues found, with paths under `prefix`.
   */
  validate(config: CountdownConfig, prefix: string): { config: CountdownConfig } | { issues: FieldIssue[] } {
    const definition = this.#definitions.get(config.choice)
    if (!definition) {
      return { issues: [{ path: `${prefix}.choice`, message: `"${config.choice}" is not a valid choice.` }] }
    }
    const parsed = definition.kwargs.safeParse(config.kwargs)
    if (!parsed.success) return { issues: issuesFromZod(parsed.error, `${prefix}.kwargs`) }
    return { config: { choice: config.choice, kwargs: parsed.data } }
  }

  /**
   * Seconds to wait before retry `retryCount` under a stored config: never negative, never more
   * than {@link maxCountdownSeconds}. A config that no longer validates (its countdown was
   * unregistered) falls back to the default schedule.
   */
  delaySeconds(config: CountdownConfig, retryCount: number, random: () => number): number {
    const definition = this.#definitions.get(config.choice)
    const parsed = definition?.kwargs.safeParse(config.kwargs)
    const countdown =
      definition && parsed?.success
        ? definition.create(parsed.data)
        : builtInCountdowns.exponential.create({ base: 2, factor: 1 })
    const seconds = countdown(retryCount, random)
    if (!Number.isFinite(seconds) || seconds > maxCountdownSeconds) return maxCountdownSeconds
    return Math.max(0, seconds)
  }

  /**
   * The retry schedule of a stored config, as the worker would follow it: the wait before each of
   * `retries` retries and when it comes, in seconds after the first attempt (the requests' own
   * durations left out). A countdown that draws at random is shown at the middle draw, with the
   * least and the most each wait and time can be.
   */
  schedule(config: CountdownConfig, retries: number): ScheduledRetry[] {
    const schedule: ScheduledRetry[] = []
    let at = 0
    let atMin = 0
    let atMax = 0
    for (let retry = 0; retry < retries; retry++) {
      const draws = [0, 0.5, 1 - Number.EPSILON].map((draw) => this.delaySeconds(config, retry, () => draw))
      const waitSeconds = draws[1]!
      const waitMinSeconds = Math.min(...draws)
      const waitMaxSeconds = Math.max(...draws)
      at += waitSeconds
      atMin += waitMinSeconds
      atMax += waitMaxSeconds
      schedule.push({
        retry,
        waitSeconds,
        waitMinSeconds,
        waitMaxSeconds,
        atSeconds: at,
        atMinSeconds: atMin,
        atMaxSeconds: atMax,
      })
    }
    return schedule
  }
}
