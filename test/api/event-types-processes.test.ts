import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, inject, test } from 'vitest'
import { createWhisperer, type Whisperer } from '../../src/whisperer.ts'
import { onPostgres, schemaName, testDefaults } from '../support/databases.ts'
import { type Receiver, startReceiver } from '../support/receiver.ts'
import { apiOf } from './support.ts'

const publishProcess = new URL('../support/publish-process.ts', import.meta.url).pathname

/** Publishes each of `data` as `type` from a process of its own, which then sends what is due. */
async function publishElsewhere(database: string, schema: string, type: string, data: unknown[]) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [publishProcess, database, schema, type, JSON.stringify(data)],
    { timeout: 100_000 },
  )
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null')
}

/** Declares `invoice-paid` over the API and subscribes the receiver to it. */
async function declareAndSubscribe(whisperer: Whisperer, receiver: Receiver): Promise<void> {
  const call = apiOf(whisperer)
  const declared = await call('POST', 'event_types/', {
    as: 'admin',
    json: { type: 'invoice-paid', json_schema: { type: 'object', required: ['id'] } },
  })
  expect(declared.status).toBe(201)
  const subscribed = await call('POST', 'hooks/', {
    json: { event_type: 'invoice-paid', target_url: `${receiver.url}/invoices` },
  })
  expect(subscribed.status).toBe(201)
}

describe('a type declared over the API, published from the library in another process', () => {
  let receiver: Receiver
  let directory: string
  beforeEach(async () => {
    receiver = await startReceiver()
    directory = await mkdtemp(join(tmpdir(), 'whisperer-types-'))
  })
  afterEach(async () => {
    await receiver.close()
    await rm(directory, { recursive: true, force: true })
  })

  test('on a PGlite directory, is delivered', async () => {
    const whisperer = await createWhisperer({ ...testDefaults, database: directory })
    await declareAndSubscribe(whisperer, receiver)
    // PGlite opens a directory in one process at a time.
    await whisperer.close()
    // The second event fails the type's JSON Schema, which came with it.
    const result = await publishElsewhere(directory, 'whisperer', 'invoice-paid', [{ id: 7 }, {}])
    expect(result).toEqual({ results: [1, 'invalid_event_data'], sent: 1 })
    expect(receiver.requests).toHaveLength(1)
    expect(JSON.parse(receiver.requests[0]!.body).data).toEqual({ id: 7 })
  }, 180_000)
})

onPostgres((db) => {
  test('on PostgreSQL, while the declaring process runs, is delivered', async () => {
    const receiver = await startReceiver()
    try {
      const schema = schemaName()
      const whisperer = await db.whisperer({ database: inject('postgresUrl')!, schema })
      await declareAndSubscribe(whisperer, receiver)
      const result = await publishElsewhere(inject('postgresUrl')!, schema, 'invoice-paid', [{ id: 7 }, {}])
      expect(result).toEqual({ results: [1, 'invalid_event_data'], sent: 1 })
      expect(receiver.requests).toHaveLength(1)
      expect(JSON.parse(receiver.requests[0]!.body).data).toEqual({ id: 7 })
    } finally {
      await receiver.close()
    }
  }, 120_000)
})
