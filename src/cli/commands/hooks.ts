import type { Command } from 'commander'
import { actor, type CliContext, positiveInt, withWhisperer } from '../context.ts'
import { printTable } from '../output.ts'

/** `whisperer hooks list`: webhooks, as an admin or as one owner. */
export function addHooksCommand(cli: Command, context: CliContext): void {
  cli
    .command('hooks')
    .description('inspect webhooks')
    .command('list')
    .option('--owner <owner>', 'one owner’s only')
    .option('--event-type <type>', 'subscribed to this type')
    .option('--limit <n>', 'at most this many', positiveInt, 100)
    .option('--json', 'print JSON')
    .action(async (options: { owner?: string; eventType?: string; limit: number; json?: boolean }) => {
      await withWhisperer(context, async (whisperer) => {
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
          { ...options, write: context.stdout },
        )
      })
    })
}
