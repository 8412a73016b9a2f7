#!/usr/bin/env node
import { readFile } from 'node:fs/promises'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import pino from 'pino'
import pretty from 'pino-pretty'
import { WhispererError } from '../core/errors.ts'
import type { Logger } from '../logger.ts'
import { readConfigFile } from '../server/config-file.ts'
import { startServer } from '../server/server.ts'
import { type Scope, scopes } from '../service/tokens.ts'
import { migrate } from '../storage/migrate.ts'
import { openDatabase } from '../storage/open-database.ts'
import { createWhisperer, version, type Whisperer } from '../whisperer.ts'
import { addListenCommand } from './listen.ts'
import { printTable, progressBar } from './output.ts'

/** Exit codes: 0 done, 1 the operation failed, 2 the command line was wrong. */
const exit = { failed: 1, usage: 2 } as const

interface GlobalOptions {
  database?: string
  schema?: string
  logLevel: string
}

/** JSON lines for machines; on a terminal, the same records made readable. */
function cliLogger(level: string): Logger {
  return process.stdout.isTTY
    ? pino(
        { level, name: 'whisperer' },
        pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }),
      )
    : pino({ level, name: 'whisperer' })
}

async function open(options: GlobalOptions, level = 'warn'): Promise<Whisperer> {
  return createWhisperer({
    ...(options.database ? { database: options.database } : {}),
    ...(options.schema ? { schema: options.schema } : {}),
    logger: cliLogger(level === 'warn' ? 'warn' : options.logLevel),
  })
}

/** Runs a command on an open Whisperer, closing it afterwards whatever happens. */
async function withWhisperer<T>(
  options: GlobalOptions,
  fn: (whisperer: Whisperer) => Promise<T>,
): Promise<T> {
  const whisperer = await open(options)
  try {
    return await fn(whisperer)
  } finally {
    await whisperer.close()
  }
}

/** The CLI acts with the database's full access: as an admin, or as one owner with `--owner`. */
const actor = (owner?: string) => (owner ? { owner } : { owner: 'cli', admin: true })

function positiveInt(value: string): number {
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number <= 0) throw new InvalidArgumentError('Not a positive integer.')
  return number
}

function date(value: string): Date {
  const parsed = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value)
  if (Number.isNaN(parsed.getTime()))
    throw new InvalidArgumentError('Not a date (YYYY-MM-DD or an ISO time).')
  return parsed
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
}

export function program(): Command {
  const cli = new Command('whisperer')
    .exitOverride()
    .description('Outbound webhooks: signed, retried, logged attempt by attempt, never lost.')
    .version(version)
    .addOption(
      new Option('--database <url|dir>', 'a postgres:// URL or a PGlite directory').env('DATABASE_URL'),
    )
    .addOption(new Option('--schema <name>', 'the schema of Whisperer’s tables').env('WHISPERER_SCHEMA'))
    .addOption(new Option('--log-level <level>', 'log level').env('WHISPERER_LOG_LEVEL').default('info'))
    .showHelpAfterError('(run with --help for usage)')
  const globals = () => cli.opts<GlobalOptions>()

  cli
    .command('serve')
    .description('run the REST API, the workers and maintenance in one process')
    .addOption(
      new Option('-p, --port <port>', 'port to listen on').env('PORT').default(8080).argParser(Number),
    )
    .addOption(new Option('--host <host>', 'address to listen on').env('HOST').default('0.0.0.0'))
    .addOption(
      new Option('--config <file>', 'configuration file (default: ./whisperer.config.json)').env(
        'WHISPERER_CONFIG',
      ),
    )
    .option('--prefix <path>', 'where the API is mounted', '/whisperer')
    .action(async (options: { port: number; host: string; config?: string; prefix: string }) => {
      const { config } = await readConfigFile(options.config)
      const whisperer = await open(globals(), 'info')
      const server = await startServer({
        whisperer,
        port: options.port,
        host: options.host,
        prefix: options.prefix,
        config,
        announce: (text) => process.stdout.write(`\n${text}\n\n`),
      })
      await untilSignal(whisperer.logger, () => server.close())
    })

  cli
    .command('worker')
    .description('run workers and maintenance only, to scale out (several may share one PostgreSQL)')
    .action(async () => {
      const whisperer = await open(globals(), 'info')
      await whisperer.start()
      whisperer.logger.info({ database: whisperer.database.kind }, 'Whisperer worker started')
      await untilSignal(whisperer.logger, () => whisperer.close())
    })

  cli
    .command('migrate')
    .description('create or update Whisperer’s tables, then exit')
    .action(async () => {
      const options = globals()
      const database = await openDatabase(options.database ?? './.whisperer')
      try {
        const applied = await migrate(database, options.schema ?? 'whisperer')
        process.stdout.write(
          applied.length ? `applied migrations ${applied.join(', ')}\n` : 'already up to date\n',
        )
      } finally {
        await database.close()
      }
    })

  const tokens = cli.command('tokens').description('manage the service’s API tokens')
  tokens
    .command('create')
    .description('create a token; it is shown only once')
    .requiredOption('--owner <owner>', 'whose webhooks and deliveries the token reaches')
    .addOption(
      new Option('--scope <scopes>', `comma-separated: ${scopes.join(', ')}`)
        .default(['subscriber'], 'subscriber')
        .argParser(list),
    )
    .option('--name <name>', 'a name to recognise it by')
    .action(async (options: { owner: string; scope: string[]; name?: string }) => {
      await withWhisperer(globals(), async (whisperer) => {
        const { token, record } = await whisperer.tokens.create({
          owner: options.owner,
          scopes: options.scope as Scope[],
          ...(options.name ? { name: options.name } : {}),
        })
        process.stderr.write(
          `created token ${record.id} for ${record.owner} (${record.scopes.join(', ')}); it is shown only once:\n`,
        )
        process.stdout.write(`${token}\n`)
      })
    })
  tokens
    .command('list')
    .description('list tokens (never their secrets)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withWhisperer(globals(), async (whisperer) => {
        const rows = (await whisperer.tokens.list()).map((token) => ({
          id: token.id,
          name: token.name,
          owner: token.owner,
          scopes: token.scopes.join(','),
          created: token.createdAt,
          last_used: token.lastUsedAt,
          revoked: token.revokedAt,
        }))
        printTable(rows, ['id', 'name', 'owner', 'scopes', 'created', 'last_used', 'revoked'], options)
      })
    })
  tokens
    .command('revoke')
    .description('revoke a token at once')
    .argument('<id>', 'the token id (the part after wh_)')
    .action(async (id: string) => {
      await withWhisperer(globals(), async (whisperer) => {
        await whisperer.tokens.revoke(id)
        process.stdout.write(`revoked token ${id}\n`)
      })
    })

  const eventTypes = cli.command('event-types').description('manage event types declared without code')
  eventTypes
    .command('list')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withWhisperer(globals(), async (whisperer) => {
        const rows = (await whisperer.eventTypes.list()).map((definition) => ({
          type: definition.type,
          description: definition.description ?? null,
          json_schema: definition.jsonSchema ? 'yes' : 'no',
          fields: definition.fields?.join(',') ?? null,
        }))
        printTable(rows, ['type', 'description', 'json_schema', 'fields'], options)
      })
    })
  eventTypes
    .command('add')
    .description('declare (or replace) an event type')
    .argument('<type>', 'its name, such as order-created')
    .option('--description <text>', 'what it means')
    .option('--schema <file>', 'a JSON Schema file its data must match')
    .option('--fields <fields>', 'comma-separated fields subscribers may see and filter on', list)
    .action(async (type: string, options: { description?: string; schema?: string; fields?: string[] }) => {
      let jsonSchema: object | null = null
      if (options.schema) {
        try {
          jsonSchema = JSON.parse(await readFile(options.schema, 'utf8')) as object
        } catch (error) {
          throw new WhispererError(
            'invalid_options',
            `Cannot read the JSON Schema ${options.schema}: ${(error as Error).message}`,
          )
        }
      }
      await withWhisperer(globals(), async (whisperer) => {
        await whisperer.eventTypes.declare({
          type,
          description: options.description ?? null,
          jsonSchema,
          fields: options.fields ?? null,
        })
        process.stdout.write(`declared event type ${type}\n`)
      })
    })
  eventTypes
    .command('remove')
    .argument('<type>')
    .action(async (type: string) => {
      await withWhisperer(globals(), async (whisperer) => {
        await whisperer.eventTypes.remove(type)
        process.stdout.write(`removed event type ${type}\n`)
      })
    })

  cli
    .command('hooks')
    .description('inspect webhooks')
    .command('list')
    .option('--owner <owner>', 'one owner’s only')
    .option('--event-type <type>', 'subscribed to this type')
    .option('--limit <n>', 'at most this many', positiveInt, 100)
    .option('--json', 'print JSON')
    .action(async (options: { owner?: string; eventType?: string; limit: number; json?: boolean }) => {
      await withWhisperer(globals(), async (whisperer) => {
        const webhooks = await whisperer.webhooks.list(actor(options.owner), {
          ...(options.eventType ? { eventType: options.eventType } : {}),
          limit: options.limit,
        })
        printTable(
          webhooks.map((w) => ({
            id: w.id,
            owner: w.owner,
            event_type: w.eventType,
            target_url: w.targetUrl,
            active: w.isActive,
            disabled: w.disabledReason,
          })),
          ['id', 'owner', 'event_type', 'target_url', 'active', 'disabled'],
          options,
        )
      })
    })

  const deliveries = cli.command('deliveries').description('inspect, retry and replay deliveries')
  deliveries
    .command('list')
    .option('--status <status>', 'pending, delivering, delivered, failed or cancelled')
    .option('--webhook <id>', 'of one webhook', positiveInt)
    .option('--event-type <type>', 'of one event type')
    .option('--owner <owner>', 'one owner’s only')
    .option('--limit <n>', 'at most this many (newest first)', positiveInt, 50)
    .option('--json', 'print JSON')
    .action(
      async (options: {
        status?: string
        webhook?: number
        eventType?: string
        owner?: string
        limit: number
        json?: boolean
      }) => {
        await withWhisperer(globals(), async (whisperer) => {
          const rows = await whisperer.deliveries.list(actor(options.owner), {
            ...(options.status ? { status: options.status as never } : {}),
            ...(options.webhook ? { webhookId: options.webhook } : {}),
            ...(options.eventType ? { eventType: options.eventType } : {}),
            limit: options.limit,
          })
          printTable(
            rows.map((d) => ({
              id: d.id,
              uuid: d.uuid,
              webhook: d.webhookId,
              event_type: d.eventType,
              status: d.status,
              attempts: d.retryCount,
              last_status: d.lastStatus ?? d.lastErrorKind,
              created: d.createdAt,
            })),
            ['id', 'uuid', 'webhook', 'event_type', 'status', 'attempts', 'last_status', 'created'],
            options,
          )
        })
      },
    )
  deliveries
    .command('retry')
    .description('send one delivery again now (dj-whisperer’s manual retry); exits 1 unless delivered')
    .argument('<id>', 'its id or uuid')
    .option('--force', 'even while it is still in its retry schedule')
    .action(async (ref: string, options: { force?: boolean }) => {
      await withWhisperer(globals(), async (whisperer) => {
        const outcome = await whisperer.deliveries.retry(actor(), ref, { force: Boolean(options.force) })
        const answer = outcome.responseStatus ?? `${outcome.errorKind}: ${outcome.error}`
        process.stdout.write(
          `${outcome.delivered ? 'delivered' : 'not delivered'} (${answer}); the delivery is ${outcome.status}\n`,
        )
        if (!outcome.delivered) process.exitCode = exit.failed
      })
    })
  deliveries
    .command('replay')
    .description('send matching deliveries again through the queue (failed ones by default)')
    .option('--webhook <id>', 'of one webhook', positiveInt)
    .option('--event-type <type>', 'of one event type')
    .option('--since <date>', 'created at or after', date)
    .option('--until <date>', 'created before', date)
    .option('--status <statuses>', 'comma-separated: failed, cancelled, delivered', list)
    .option('--owner <owner>', 'one owner’s only')
    .option('--dry-run', 'only count them')
    .action(
      async (options: {
        webhook?: number
        eventType?: string
        since?: Date
        until?: Date
        status?: string[]
        owner?: string
        dryRun?: boolean
      }) => {
        const statuses = (options.status ?? ['failed']) as ('failed' | 'cancelled' | 'delivered')[]
        const bad = statuses.filter((status) => !['failed', 'cancelled', 'delivered'].includes(status))
        if (bad.length > 0)
          throw new CommanderError(exit.usage, 'usage', `cannot replay deliveries that are ${bad.join(', ')}`)
        const filter = {
          ...(options.webhook ? { webhookId: options.webhook } : {}),
          ...(options.eventType ? { eventType: options.eventType } : {}),
          ...(options.since ? { createdAfter: options.since } : {}),
          ...(options.until ? { createdBefore: options.until } : {}),
          statuses,
        }
        await withWhisperer(globals(), async (whisperer) => {
          const total = await whisperer.deliveries.replayCount(actor(options.owner), filter)
          if (options.dryRun || total === 0) {
            process.stdout.write(`${total} deliveries would be sent again\n`)
            return
          }
          const bar = progressBar(total, 'replaying')
          let done = 0
          for (;;) {
            const replayed = await whisperer.deliveries.replay(actor(options.owner), {
              ...filter,
              limit: 500,
            })
            done += replayed
            bar.update(Math.min(done, total))
            if (replayed < 500) break
          }
          bar.finish()
          process.stdout.write(`queued ${done} deliveries to be sent again\n`)
        })
      },
    )

  addListenCommand(cli)

  return cli
}

/** Waits for SIGTERM or SIGINT, then shuts down gracefully; a second signal exits at once. */
async function untilSignal(logger: Logger, shutdown: () => Promise<void>): Promise<void> {
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

async function main(argv: string[]): Promise<void> {
  const cli = program()
  try {
    await cli.parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      ) {
        process.exitCode = 0
        return
      }
      if (error.code === 'usage') process.stderr.write(`error: ${error.message}\n`)
      process.exitCode = exit.usage
      return
    }
    if (error instanceof WhispererError) {
      process.stderr.write(`error: ${error.message}\n`)
      for (const issue of error.issues)
        process.stderr.write(`  ${issue.path || '(input)'}: ${issue.message}\n`)
    } else {
      const code = (error as { code?: string }).code
      const hint =
        code === 'ECONNREFUSED'
          ? ' (is PostgreSQL running at DATABASE_URL?)'
          : code === 'EADDRINUSE'
            ? ' (the port is taken: choose another with --port or PORT)'
            : ''
      process.stderr.write(`error: ${(error as Error).message}${hint}\n`)
    }
    process.exitCode = exit.failed
  }
}

await main(process.argv)
