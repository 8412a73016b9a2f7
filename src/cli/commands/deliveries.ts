import { type Command, CommanderError } from 'commander'
import type { Whisperer } from '../../whisperer.ts'
import { actor, type CliContext, date, exit, list, positiveInt, withWhisperer } from '../context.ts'
import { printTable, progressBar } from '../output.ts'

interface ListOptions {
  status?: string
  webhook?: number
  eventType?: string
  owner?: string
  limit: number
  json?: boolean
}

interface ReplayOptions {
  webhook?: number
  eventType?: string
  since?: Date
  until?: Date
  status?: string[]
  owner?: string
  dryRun?: boolean
}

type ReplayStatus = 'failed' | 'cancelled' | 'delivered'
const replayable: ReplayStatus[] = ['failed', 'cancelled', 'delivered']
/** Deliveries queued again per call, so that a large replay shows progress. */
const replayBatch = 500

/** `whisperer deliveries list|retry|replay`: inspect deliveries and send them again. */
export function addDeliveriesCommand(cli: Command, context: CliContext): void {
  const deliveries = cli.command('deliveries').description('inspect, retry and replay deliveries')
  deliveries
    .command('list')
    .option('--status <status>', 'pending, delivering, delivered, failed or cancelled')
    .option('--webhook <id>', 'of one webhook', positiveInt)
    .option('--event-type <type>', 'of one event type')
    .option('--owner <owner>', 'one owner’s only')
    .option('--limit <n>', 'at most this many (newest first)', positiveInt, 50)
    .option('--json', 'print JSON')
    .action((options: ListOptions) =>
      withWhisperer(context, (whisperer) => listDeliveries(context, whisperer, options)),
    )
  deliveries
    .command('retry')
    .description('send one delivery again now (dj-whisperer’s manual retry); exits 1 unless delivered')
    .argument('<id>', 'its id or uuid')
    .option('--force', 'even while it is still in its retry schedule')
    .action(async (ref: string, options: { force?: boolean }) => {
      await withWhisperer(context, async (whisperer) => {
        const outcome = await whisperer.deliveries.retry(actor(), ref, { force: Boolean(options.force) })
        const answer = outcome.responseStatus ?? `${outcome.errorKind}: ${outcome.error}`
        context.stdout(
          `${outcome.delivered ? 'delivered' : 'not delivered'} (${answer}); the delivery is ${outcome.status}\n`,
        )
        if (!outcome.delivered) context.exitCode = exit.failed
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
    .action((options: ReplayOptions) => replay(context, options))
}

async function listDeliveries(
  context: CliContext,
  whisperer: Whisperer,
  options: ListOptions,
): Promise<void> {
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
    { ...options, write: context.stdout },
  )
}

async function replay(context: CliContext, options: ReplayOptions): Promise<void> {
  const statuses = (options.status ?? ['failed']) as ReplayStatus[]
  const bad = statuses.filter((status) => !replayable.includes(status))
  if (bad.length > 0)
    throw new CommanderError(exit.usage, 'usage', `cannot replay deliveries that are ${bad.join(', ')}`)
  const filter = {
    ...(options.webhook ? { webhookId: options.webhook } : {}),
    ...(options.eventType ? { eventType: options.eventType } : {}),
    ...(options.since ? { createdAfter: options.since } : {}),
    ...(options.until ? { createdBefore: options.until } : {}),
    statuses,
  }
  await withWhisperer(context, async (whisperer) => {
    const total = await whisperer.deliveries.replayCount(actor(options.owner), filter)
    if (options.dryRun || total === 0) {
      context.stdout(`${total} deliveries would be sent again\n`)
      return
    }
    const bar = progressBar(total, 'replaying')
    let done = 0
    for (;;) {
      const replayed = await whisperer.deliveries.replay(actor(options.owner), {
        ...filter,
        limit: replayBatch,
      })
      done += replayed
      bar.update(Math.min(done, total))
      if (replayed < replayBatch) break
    }
    bar.finish()
    context.stdout(`queued ${done} deliveries to be sent again\n`)
  })
}
