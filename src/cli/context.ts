import { type Command, InvalidArgumentError } from 'commander'
import pino from 'pino'
import pretty from 'pino-pretty'
import type { WhispererOptions } from '../config.ts'
import type { Logger } from '../logger.ts'
import { createWhisperer, type Whisperer } from '../whisperer.ts'

/** Exit codes: 0 done, 1 the operation failed, 2 the command line was wrong. */
export const exit = { done: 0, failed: 1, usage: 2 } as const

/** The options every command takes, before its name. */
export interface GlobalOptions {
  database?: string
  schema?: string
  logLevel: string
}

/** Where a command prints: the process's stdout and stderr, or a test's buffers. */
export interface Output {
  stdout(text: string): void
  stderr(text: string): void
}

/** What each command is given when it registers itself on the program. */
export interface CliContext extends Output {
  /** The global options, once the command line is parsed. */
  globals(): GlobalOptions
  /** The exit code once the command is done; a command sets it when the operation failed. */
  exitCode: number
}

/** A command: registers itself, with its subcommands, on the program. */
export type AddCommand = (cli: Command, context: CliContext) => void

/** JSON lines for machines; on a terminal, the same records made readable. */
export function cliLogger(level: string): Logger {
  return process.stdout.isTTY
    ? pino(
        { level, name: 'whisperer' },
        pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }),
      )
    : pino({ level, name: 'whisperer' })
}

/** The command line's `--database` and `--schema`; the rest comes from the environment. */
export function whispererOptions(options: GlobalOptions): WhispererOptions {
  return {
    ...(options.database ? { database: options.database } : {}),
    ...(options.schema ? { schema: options.schema } : {}),
  }
}

/**
 * A Whisperer for a command: quiet (warnings only) unless the command runs a service. `extra`
 * overrides what the command line and the environment give.
 */
export async function open(
  options: GlobalOptions,
  level: 'warn' | 'global' = 'warn',
  extra: WhispererOptions = {},
): Promise<Whisperer> {
  return createWhisperer({
    ...whispererOptions(options),
    logger: cliLogger(level === 'warn' ? 'warn' : options.logLevel),
    ...extra,
  })
}

/** Runs a command on an open Whisperer, closing it afterwards whatever happens. */
export async function withWhisperer<T>(
  context: CliContext,
  fn: (whisperer: Whisperer) => Promise<T>,
  extra: WhispererOptions = {},
): Promise<T> {
  const whisperer = await open(context.globals(), 'warn', extra)
  try {
    return await fn(whisperer)
  } finally {
    await whisperer.close()
  }
}

/** The CLI acts with the database's full access: as an admin, or as one owner with `--owner`. */
export const actor = (owner?: string) => (owner ? { owner } : { owner: 'cli', admin: true })

export function positiveInt(value: string): number {
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number <= 0) throw new InvalidArgumentError('Not a positive integer.')
  return number
}

export function date(value: string): Date {
  const parsed = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value)
  if (Number.isNaN(parsed.getTime()))
    throw new InvalidArgumentError('Not a date (YYYY-MM-DD or an ISO time).')
  return parsed
}

export function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
}

/** Waits for SIGTERM or SIGINT, then shuts down gracefully; a second signal exits at once. */
export async function untilSignal(logger: Logger, shutdown: () => Promise<void>): Promise<void> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'))
    process.once('SIGINT', () => resolve('SIGINT'))
  })
  logger.info({ signal }, 'shutting down: finishing deliveries in flight')
  const force = () => {
    logger.warn({}, 'second signal: exiting now')
    process.exit(exit.failed)
  }
  process.once('SIGTERM', force)
  process.once('SIGINT', force)
  await shutdown()
  logger.info({}, 'stopped')
}
