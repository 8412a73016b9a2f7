import { toJson } from '../../src/core/payload.ts'
import { buildRequest } from '../../src/core/request.ts'
import { newSigningKey, type Signer, toSigner } from '../../src/core/signing-keys.ts'
import type { RunnerContext } from '../support/context.ts'
import { mean, percentOf } from '../support/percentiles.ts'
import { metric, type ScenarioResult } from '../support/result.ts'
import { payload } from '../support/settings.ts'
import { alternatingFanout10 } from './throughput.ts'

/**
 * keycost: what signing with 3 live keys (a webhook in the grace periods of two rotations) costs an
 * attempt against 1 key. Two figures from the same run:
 * - fanout10 with one worker, webhooks with 1 key and with 3 (1, 3, 3, 1), each run reported, and
 *   the worker CPU per delivery with 3 keys as a share of it with 1 (and the same for deliveries/s);
 * - the request building and signing alone (`buildRequest`, body and headers as an attempt has
 *   them), timed in this process with 1 and 3 keys, its extra as a share of the worker CPU of a
 *   whole attempt (1 key): the steady figure where throughput moves a few percent with the machine.
 */
export async function keyCost(ctx: RunnerContext): Promise<ScenarioResult[]> {
  const figures = await alternatingFanout10(
    ctx,
    'keycost',
    [1, 3] as const,
    (keys) => ({ label: `${keys} live key${keys === 1 ? '' : 's'}`, run: { keys } }),
    ['deliveries_per_s', 'cpu_us_per_delivery'],
  )
  const rates = { 1: figures.get(1)!.deliveries_per_s!, 3: figures.get(3)!.deliveries_per_s! }
  const cpu = { 1: figures.get(1)!.cpu_us_per_delivery!, 3: figures.get(3)!.cpu_us_per_delivery! }
  const signing = { 1: signingMicros(1), 3: signingMicros(3) }
  const attemptCpu = mean(cpu[1])
  const extraPct = attemptCpu ? ((signing[3] - signing[1]) / attemptCpu) * 100 : null
  return [
    {
      scenario: 'keycost',
      db: ctx.kind,
      variant: 'fanout10, 3 live keys / 1',
      status: extraPct === null ? 'error' : 'ok',
      metrics: [
        metric('sign_1_us', 'request signed, 1 key', signing[1], 'µs'),
        metric('sign_3_us', 'request signed, 3 keys', signing[3], 'µs'),
        metric('extra_per_attempt_pct', 'extra per attempt, 3 keys', extraPct, '%'),
        metric(
          'cpu_3_1_pct',
          'worker CPU per delivery, 3 keys / 1',
          percentOf(mean(cpu[3]), attemptCpu),
          '%',
        ),
        metric('rate_3_1_pct', 'deliveries/s, 3 keys / 1', percentOf(mean(rates[3]), mean(rates[1])), '%'),
      ],
      notes: [
        `1 key: ${rates[1].map((r) => Math.round(r)).join(', ')}; 3 keys: ${rates[3].map((r) => Math.round(r)).join(', ')} deliveries/s`,
        `worker CPU µs/delivery, 1 key: ${cpu[1].map((c) => Math.round(c)).join(', ')}; 3 keys: ${cpu[3].map((c) => Math.round(c)).join(', ')}`,
        'extra per attempt = (request signed with 3 keys − with 1) / worker CPU per delivery with 1 key',
      ],
      details: { rates, cpu, signing },
    },
  ]
}

/** The median µs to build and sign one request with `count` HMAC keys, over rounds of 20,000. */
function signingMicros(count: number): number {
  const now = new Date()
  const signers: Signer[] = Array.from({ length: count }, () =>
    toSigner(newSigningKey('hmac-sha256', undefined, now)),
  )
  const uuid = '0f8e3c5a-9b1d-4e2f-a6c7-5d4b3a291807'
  const body = `{"event":{"type":"bench.fanout10","uuid":"${uuid.replaceAll('-', '')}"},"data":${toJson(payload(1))}}`
  const params = {
    targetUrl: 'http://127.0.0.1:1/fanout10/0',
    eventType: 'bench.fanout10',
    deliveryUuid: uuid,
    body,
    signers,
    additionalHeaders: {},
    authorization: null,
    timestamp: Math.floor(now.getTime() / 1000),
    userAgent: 'Whisperer/bench',
  }
  const rounds: number[] = []
  for (let round = 0; round < 7; round += 1) {
    const started = performance.now()
    for (let i = 0; i < 20_000; i += 1) buildRequest(params)
    rounds.push(((performance.now() - started) * 1000) / 20_000)
  }
  return rounds.sort((a, b) => a - b)[3]!
}
