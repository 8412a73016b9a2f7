import type { Command } from 'commander'
import { resolveConfig } from '../../config.ts'
import { WhispererError } from '../../core/errors.ts'
import type { RewrapProgress } from '../../service/secrets.ts'
import { version } from '../../whisperer.ts'
import { type CliContext, cliLogger, exit, positiveInt, whispererOptions, withWhisperer } from '../context.ts'

/** `whisperer secrets status|rewrap`: the encryption of secrets at rest. */
export function addSecretsCommand(cli: Command, context: CliContext): void {
  const secrets = cli
    .command('secrets')
    .description('secrets at rest: whether they are encrypted, and re-encrypting them')
  secrets
    .command('status')
    .description(
      'whether secrets are encrypted, and how many webhooks hold some not sealed with the current key',
    )
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withWhisperer(context, async (whisperer) => {
        const { keys } = whisperer.config
        const status = { encrypting: keys.encrypting, keys: keys.ids, current: keys.current }
        const pending = await whisperer.secrets.pending()
        if (options.json) {
          context.stdout(`${JSON.stringify({ ...status, pending }, null, 2)}\n`)
          return
        }
        context.stdout(
          keys.encrypting
            ? `encryption: on, with the key "${keys.current}" (keys: ${keys.ids.join(', ')})\n`
            : 'encryption: off: secrets are stored in clear (set WHISPERER_ENCRYPTION_KEYS to encrypt them)\n',
        )
        context.stdout(
          keys.encrypting
            ? `pending: ${pending} webhooks hold secrets not sealed with the current key\n`
            : `pending: ${pending} webhooks hold secrets to seal once a key is set\n`,
        )
        if (keys.encrypting && pending > 0) context.stderr('run whisperer secrets rewrap to seal them\n')
      })
    })
  secrets
    .command('rewrap')
    .description(
      'encrypt every stored secret with the current key (the first of WHISPERER_ENCRYPTION_KEYS), in batches; exits 1 if some cannot be opened',
    )
    .option('--batch-size <n>', 'webhooks per batch', positiveInt, 500)
    .option('--after-id <id>', 'resume after this webhook id, as a progress line said', positiveInt)
    .action(async (options: { batchSize: number; afterId?: number }) => {
      if (!resolveConfig(whispererOptions(context.globals()), version).keys.encrypting) throw noKey()
      // The failures are printed below, each once: the service's log of them is left out.
      const logger = cliLogger('fatal')
      await withWhisperer(
        context,
        async (whisperer) => {
          const result = await whisperer.secrets.rewrap({
            batchSize: options.batchSize,
            ...(options.afterId !== undefined ? { afterId: options.afterId } : {}),
            onProgress: (progress) => context.stderr(progressLine(progress)),
          })
          context.stdout(
            `sealed the secrets of ${result.rewrapped} webhooks with the key "${whisperer.config.keys.current}" (${result.scanned} scanned)\n`,
          )
          if (result.failed.length === 0) return
          context.stderr(`could not re-encrypt the secrets of ${result.failed.length} webhooks:\n`)
          for (const failure of result.failed) context.stderr(`  webhook ${failure.id}: ${failure.error}\n`)
          context.stderr(
            'add the key they name to WHISPERER_ENCRYPTION_KEYS (after the current one), then run this again\n',
          )
          context.exitCode = exit.failed
        },
        { logger },
      )
    })
}

function progressLine(progress: RewrapProgress): string {
  const counts = `scanned ${progress.scanned}, rewrapped ${progress.rewrapped}, failed ${progress.failed.length}`
  return progress.lastId === null
    ? `${counts}; done\n`
    : `${counts}; resume with --after-id ${progress.lastId}\n`
}

function noKey(): WhispererError {
  return new WhispererError(
    'invalid_options',
    'No encryption key is configured: set WHISPERER_ENCRYPTION_KEYS to "id:base64key" (32 bytes: openssl rand -base64 32); the first key encrypts, all of them decrypt',
  )
}
