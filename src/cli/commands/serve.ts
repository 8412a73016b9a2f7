import { type Command, Option } from 'commander'
import { defaultPrefix } from '../../config.ts'
import { readConfigFile } from '../../server/config-file.ts'
import { startServer } from '../../server/server.ts'
import { type CliContext, open, untilSignal } from '../context.ts'

/** `whisperer serve`: the REST API, the dashboard, a worker and maintenance in one process. */
export function addServeCommand(cli: Command, context: CliContext): void {
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
    .option('--prefix <path>', 'where the API is mounted', defaultPrefix)
    .action(async (options: { port: number; host: string; config?: string; prefix: string }) => {
      const { config } = await readConfigFile(options.config)
      const whisperer = await open(context.globals(), 'global')
      const server = await startServer({
        whisperer,
        port: options.port,
        host: options.host,
        prefix: options.prefix,
        config,
        announce: (text) => context.stdout(`\n${text}\n\n`),
      })
      await untilSignal(whisperer.logger, () => server.close())
    })
}
