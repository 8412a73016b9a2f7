import type { Command } from 'commander'
import { webhookJson } from '../../api/serialize.ts'
import type { WebhookWithSecret } from '../../core/webhook.ts'
import { actor, type CliContext, positiveInt, withWhisperer } from '../context.ts'
import { printTable } from '../output.ts'

interface RotateOptions {
  owner?: string
  secretKey?: string
  graceSeconds?: number
  signatureScheme?: string
  json?: boolean
}

/** `whisperer hooks list|rotate-secret`: webhooks, as an admin or as one owner. */
export function addHooksCommand(cli: Command, context: CliContext): void {
  const hooks = cli.command('hooks').description('inspect webhooks and rotate their secrets')
  hooks
    .command('list')
    .option('--owner <owner>', 'one owner’s only')
    .option('--event-type <type>', 'those that receive this type (named, or by a pattern)')
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
            event_types: options.json ? w.eventTypes : w.eventTypes.join(','),
            target_url: w.targetUrl,
            active: w.isActive,
            disabled: w.disabledReason,
          })),
          ['id', 'owner', 'event_types', 'target_url', 'active', 'disabled'],
          { ...options, write: context.stdout },
        )
      })
    })
  hooks
    .command('rotate-secret')
    .description(
      'give a webhook a new signing key; its current keys keep signing beside it for the grace period',
    )
    .argument('<id>', 'the webhook id', positiveInt)
    .option('--owner <owner>', 'as this owner (the webhook must be theirs)')
    .option('--secret-key <secret>', 'the new secret (whsec_… or any string); generated when left out')
    .option(
      '--grace-seconds <n>',
      'how long the current keys keep signing: 0 to 604800 (7 days); 86400 when left out',
      Number,
    )
    .option('--signature-scheme <scheme>', 'hmac-sha256 or ed25519; the current one when left out')
    .option('--json', 'print JSON')
    .action(async (id: number, options: RotateOptions) => {
      await withWhisperer(context, async (whisperer) => {
        const webhook = await whisperer.webhooks.rotateSecret(actor(options.owner), id, {
          ...(options.secretKey !== undefined ? { secretKey: options.secretKey } : {}),
          ...(options.graceSeconds !== undefined ? { graceSeconds: options.graceSeconds } : {}),
          ...(options.signatureScheme !== undefined
            ? { signatureScheme: options.signatureScheme as never }
            : {}),
        })
        if (options.json) context.stdout(`${JSON.stringify(rotationJson(webhook), null, 2)}\n`)
        else printRotation(context, webhook, options.secretKey !== undefined)
      })
    })
}

/** The new key on stdout (for a pipe); what it means on stderr, as `tokens create` does. */
function printRotation(context: CliContext, webhook: WebhookWithSecret, given: boolean): void {
  if (webhook.signatureScheme === 'ed25519') {
    context.stderr(
      `webhook ${webhook.id} now signs with a new ed25519 key; receivers verify with its public key:\n`,
    )
    context.stdout(`${webhook.publicKey}\n`)
  } else if (given) {
    context.stderr(`webhook ${webhook.id} now signs with the secret given\n`)
  } else {
    context.stderr(`webhook ${webhook.id} now signs with a new secret; it is shown only once:\n`)
    context.stdout(`${webhook.secretKey}\n`)
  }
  if (webhook.previousKeys.length === 0) {
    context.stderr('no previous key signs any more\n')
    return
  }
  for (const key of webhook.previousKeys) {
    context.stderr(`a previous ${key.scheme} key keeps signing until ${key.expiresAt.toISOString()}\n`)
  }
}

/** What the API shows of a rotation: the webhook's signing fields, the new secret in clear. */
function rotationJson(webhook: WebhookWithSecret) {
  const { id, signature_scheme, secret_key, public_key, secret_rotated_at, previous_keys } =
    webhookJson(webhook)
  return { id, signature_scheme, secret_key, public_key, secret_rotated_at, previous_keys }
}
