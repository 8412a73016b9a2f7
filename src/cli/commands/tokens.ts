import { type Command, Option } from 'commander'
import { type Scope, scopes } from '../../service/tokens.ts'
import { type CliContext, list, withWhisperer } from '../context.ts'
import { printTable } from '../output.ts'

/** `whisperer tokens create|list|revoke`: the service's API tokens. */
export function addTokensCommand(cli: Command, context: CliContext): void {
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
      await withWhisperer(context, async (whisperer) => {
        const { token, record } = await whisperer.tokens.create({
          owner: options.owner,
          scopes: options.scope as Scope[],
          ...(options.name ? { name: options.name } : {}),
        })
        context.stderr(
          `created token ${record.id} for ${record.owner} (${record.scopes.join(', ')}); it is shown only once:\n`,
        )
        context.stdout(`${token}\n`)
      })
    })
  tokens
    .command('list')
    .description('list tokens (never their secrets)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withWhisperer(context, async (whisperer) => {
        const rows = (await whisperer.tokens.list()).map((token) => ({
          id: token.id,
          name: token.name,
          owner: token.owner,
          scopes: token.scopes.join(','),
          created: token.createdAt,
          last_used: token.lastUsedAt,
          revoked: token.revokedAt,
        }))
        const columns = ['id', 'name', 'owner', 'scopes', 'created', 'last_used', 'revoked']
        printTable(rows, columns, { ...options, write: context.stdout })
      })
    })
  tokens
    .command('revoke')
    .description('revoke a token at once')
    .argument('<id>', 'the token id (the part after wh_)')
    .action(async (id: string) => {
      await withWhisperer(context, async (whisperer) => {
        await whisperer.tokens.revoke(id)
        context.stdout(`revoked token ${id}\n`)
      })
    })
}
