import { Command, CommanderError, Option } from 'commander'
import { WhispererError } from '../core/errors.ts'
import { version } from '../whisperer.ts'
import { addDeliveriesCommand } from './commands/deliveries.ts'
import { addEventTypesCommand } from './commands/event-types.ts'
import { addHooksCommand } from './commands/hooks.ts'
import { addListenCommand } from './commands/listen.ts'
import { addMigrateCommand } from './commands/migrate.ts'
import { addSecretsCommand } from './commands/secrets.ts'
import { addServeCommand } from './commands/serve.ts'
import { addTokensCommand } from './commands/tokens.ts'
import { addWorkerCommand } from './commands/worker.ts'
import { type AddCommand, type CliContext, exit, type GlobalOptions, type Output } from './context.ts'

/** Every command, in the order `--help` lists them. */
const commands: AddCommand[] = [
  addServeCommand,
  addWorkerCommand,
  addMigrateCommand,
  addTokensCommand,
  addEventTypesCommand,
  addHooksCommand,
  addSecretsCommand,
  addDeliveriesCommand,
  addListenCommand,
]

const processOutput: Output = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}

/** The `whisperer` program: its global options, then each command registering itself. */
export function program(output: Output = processOutput): { cli: Command; context: CliContext } {
  const cli = new Command('whisperer')
    .exitOverride()
    .configureOutput({ writeOut: output.stdout, writeErr: output.stderr })
    .description('Outbound webhooks: signed, retried, logged attempt by attempt, never lost.')
    .version(version)
    .addOption(
      new Option('--database <url|dir>', 'a postgres:// URL or a PGlite directory').env('DATABASE_URL'),
    )
    .addOption(new Option('--schema <name>', 'the schema of Whisperer’s tables').env('WHISPERER_SCHEMA'))
    .addOption(new Option('--log-level <level>', 'log level').env('WHISPERER_LOG_LEVEL').default('info'))
    .showHelpAfterError('(run with --help for usage)')
  const context: CliContext = { ...output, globals: () => cli.opts<GlobalOptions>(), exitCode: exit.done }
  for (const add of commands) add(cli, context)
  return { cli, context }
}

/**
 * Runs the command line `argv` (as `process.argv`: node, the script, then the arguments) and
 * resolves with its exit code: 0 done, 1 the operation failed, 2 the command line was wrong.
 */
export async function main(argv: string[], output: Output = processOutput): Promise<number> {
  const { cli, context } = program(output)
  try {
    await cli.parseAsync(argv)
    return context.exitCode
  } catch (error) {
    if (error instanceof CommanderError) return commanderExit(error, output)
    report(error, output)
    return exit.failed
  }
}

function commanderExit(error: CommanderError, output: Output): number {
  if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code))
    return exit.done
  if (error.code === 'usage') output.stderr(`error: ${error.message}\n`)
  return exit.usage
}

function report(error: unknown, output: Output): void {
  if (error instanceof WhispererError && error.code === 'database_unavailable') {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : ''
    output.stderr(`error: ${error.message}${cause} (is PostgreSQL running at DATABASE_URL?)\n`)
    return
  }
  if (error instanceof WhispererError) {
    output.stderr(`error: ${error.message}\n`)
    for (const issue of error.issues) output.stderr(`  ${issue.path || '(input)'}: ${issue.message}\n`)
    return
  }
  const code = (error as { code?: string }).code
  const hint = code === 'EADDRINUSE' ? ' (the port is taken: choose another with --port or PORT)' : ''
  output.stderr(`error: ${(error as Error).message}${hint}\n`)
}
