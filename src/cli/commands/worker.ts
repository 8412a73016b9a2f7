import type { Command } from 'commander'
import { type CliContext, open, untilSignal } from '../context.ts'

/** `whisperer worker`: deliveries and maintenance without the API, to scale out. */
export function addWorkerCommand(cli: Command, context: CliContext): void {
  cli
    .command('worker')
    .description('run workers and maintenance only, to scale out (several may share one PostgreSQL)')
    .action(async () => {
      const whisperer = await open(context.globals(), 'global')
      await whisperer.start()
      whisperer.logger.info({ database: whisperer.database.kind }, 'Whisperer worker started')
      await untilSignal(whisperer.logger, () => whisperer.close())
    })
}
