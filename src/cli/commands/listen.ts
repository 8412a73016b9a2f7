import { styleText } from 'node:util'
import { type Command, InvalidArgumentError } from 'commander'
import type { CliContext } from '../context.ts'
import { type ListenOptions, startListener } from '../listen.ts'
import type { Paint } from '../listen-report.ts'

function integer(min: number, max: number, what: string): (value: string) => number {
  return (value) => {
    const number = Number(value)
    if (!/^\d+$/.test(value) || number < min || number > max) throw new InvalidArgumentError(`Not ${what}.`)
    return number
  }
}

function urlPath(value: string): string {
  if (!value.startsWith('/') || /[\s?#]/.test(value))
    throw new InvalidArgumentError('Not a path such as /hooks.')
  return value
}

const answers = `
Answers:
  With --secret, a request is answered 401 unless it verifies as a receiver
  should: webhook-signature is required, its webhook-timestamp must be within
  300 s of now, and x-whisperer-signature must match when present. Each
  signature is printed as valid or invalid, with the reason.
  --status overrides that 401. --fail-first answers 500 first, then --status
  (200 by default). Paths other than --path are answered 404.

Whisperer refuses loopback and private targets by default: on the sending side,
set WHISPERER_ALLOW_PRIVATE_TARGETS=1 or WHISPERER_ALLOWED_TARGETS=127.0.0.1
(allowPrivateTargets or allowedTargets in the library).`

/** `whisperer listen`: a receiver for developers, printing every webhook it gets. */
export function addListenCommand(cli: Command, context: CliContext): void {
  cli
    .command('listen')
    .description('receive webhooks on a local endpoint and print each one, to see Whisperer work')
    .option(
      '-p, --port <port>',
      'port to listen on (0: any free one)',
      integer(0, 65535, 'a port from 0 to 65535'),
      9000,
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--path <path>', 'the path to answer on', urlPath, '/')
    .option('--secret <secret_key>', 'the webhook’s secret_key: verify both signatures')
    .option(
      '--status <code>',
      'answer every request with this status (500 to see retries, 410 to see the webhook disabled)',
      integer(200, 599, 'an HTTP status from 200 to 599'),
    )
    .option(
      '--fail-first <n>',
      'answer 500 to the first n requests of each delivery (by webhook-id), then succeed',
      integer(1, 1000, 'a number of requests from 1 to 1000'),
    )
    .option(
      '--delay <ms>',
      'wait this long before answering (to see timeouts)',
      integer(0, 3_600_000, 'a delay in milliseconds'),
    )
    .option('--json', 'print one JSON line per request instead')
    .addHelpText('after', answers)
    .action(async (options: ListenOptions) => {
      const paint: Paint = (format, text) => styleText(format, text, { stream: process.stdout })
      const listener = await startListener(options, context.stdout, paint)
      // With --json, stdout carries only the requests.
      const say = options.json ? context.stderr : context.stdout
      say(banner(listener.url, options))
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve)
        process.once('SIGINT', resolve)
      })
      await listener.close()
      say('stopped\n')
    })
}

function banner(url: string, options: ListenOptions): string {
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1')
  const lines = [
    `Listening for webhooks on ${url}`,
    '  Subscribe this URL as a webhook’s target_url. Whisperer refuses loopback and private',
    '  targets by default: run the sender with WHISPERER_ALLOW_PRIVATE_TARGETS=1 or',
    `  WHISPERER_ALLOWED_TARGETS=${host}.`,
    options.secret
      ? '  Signatures are checked with --secret; a request that fails them is answered 401.'
      : '  Without --secret, signatures are not checked.',
  ]
  if (options.failFirst) {
    lines.push(
      options.failFirst === 1
        ? '  The first request of each delivery is answered 500.'
        : `  The first ${options.failFirst} requests of each delivery are answered 500.`,
    )
  }
  if (options.status !== undefined) lines.push(`  Requests are answered ${options.status}.`)
  if (options.delay) lines.push(`  Answers wait ${options.delay} ms.`)
  lines.push('  Ctrl+C stops.')
  return `${lines.join('\n')}\n\n`
}
