import { type Command, Option } from 'commander'
import { defaultPrefix } from '../../config.ts'
import { startMetricsServer } from '../../server/metrics-server.ts'
import { type CliContext, open, positiveInt, untilSignal } from '../context.ts'

/** `whisperer worker`: deliveries and maintenance without the API, to scale out. */
export function addWorkerCommand(cli: Command, context: CliContext): void {
  cli
    .command('worker')
    .description('run workers and maintenance only, to scale out (several may share one PostgreSQL)')
    .addOption(
      new Option('--metrics-port <port>', 'serve /metrics and the health routes on this port (default: off)')
        .env('WHISPERER_METRICS_PORT')
        .argParser(positiveInt),
    )
    .addOption(
      new Option('--metrics-host <host>', 'address the metrics port listens on')
        .env('WHISPERER_METRICS_HOST')
        .default('0.0.0.0'),
    )
    .option('--prefix <path>', 'where the health routes are mounted', defaultPrefix)
    .action(async (options: { metricsPort?: number; metricsHost: string; prefix: string }) => {
      const whisperer = await open(context.globals(), 'global')
      const metrics =
        options.metricsPort === undefined
          ? null
          : await startMetricsServer({
              whisperer,
              port: options.metricsPort,
              host: options.metricsHost,
              prefix: options.prefix,
            }).catch(async (error) => {
              await whisperer.close()
              throw error
            })
      await whisperer.start()
      whisperer.logger.info(
        { database: whisperer.database.kind, ...(metrics ? { metrics: `${metrics.url}/metrics` } : {}) },
        'Whisperer worker started',
      )
      await untilSignal(whisperer.logger, async () => {
        await metrics?.close()
        await whisperer.close()
      })
    })
}
