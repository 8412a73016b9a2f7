import type { Command } from 'commander'
import { resolveConfig } from '../../config.ts'
import { migrate } from '../../storage/migrate.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { version } from '../../whisperer.ts'
import { type CliContext, whispererOptions } from '../context.ts'

/** `whisperer migrate`: applies missing migrations and exits, options resolved as everywhere else. */
export function addMigrateCommand(cli: Command, context: CliContext): void {
  cli
    .command('migrate')
    .description('create or update Whisperer’s tables, then exit')
    .action(async () => {
      const config = resolveConfig(whispererOptions(context.globals()), version)
      const database = await openDatabase(config.database)
      try {
        const applied = await migrate(database, config.schema)
        context.stdout(applied.length ? `applied migrations ${applied.join(', ')}\n` : 'already up to date\n')
      } finally {
        await database.close()
      }
    })
}
