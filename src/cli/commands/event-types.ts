import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { WhispererError } from '../../core/errors.ts'
import { type CliContext, list, withWhisperer } from '../context.ts'
import { printTable } from '../output.ts'

/** `whisperer event-types list|add|remove`: event types declared without code. */
export function addEventTypesCommand(cli: Command, context: CliContext): void {
  const eventTypes = cli.command('event-types').description('manage event types declared without code')
  eventTypes
    .command('list')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withWhisperer(context, async (whisperer) => {
        const rows = (await whisperer.eventTypes.list()).map((definition) => ({
          type: definition.type,
          description: definition.description ?? null,
          json_schema: definition.jsonSchema ? 'yes' : 'no',
          fields: definition.fields?.join(',') ?? null,
        }))
        printTable(rows, ['type', 'description', 'json_schema', 'fields'], {
          ...options,
          write: context.stdout,
        })
      })
    })
  eventTypes
    .command('add')
    .description('declare (or replace) an event type')
    .argument('<type>', 'its name, such as order-created')
    .option('--description <text>', 'what it means')
    .option('--schema <file>', 'a JSON Schema file its data must match')
    .option('--fields <fields>', 'comma-separated fields subscribers may see and filter on', list)
    .action(async (type: string, options: { description?: string; schema?: string; fields?: string[] }) => {
      const jsonSchema = options.schema ? await readJsonSchema(options.schema) : null
      await withWhisperer(context, async (whisperer) => {
        await whisperer.eventTypes.declare({
          type,
          description: options.description ?? null,
          jsonSchema,
          fields: options.fields ?? null,
        })
        context.stdout(`declared event type ${type}\n`)
      })
    })
  eventTypes
    .command('remove')
    .argument('<type>')
    .action(async (type: string) => {
      await withWhisperer(context, async (whisperer) => {
        await whisperer.eventTypes.remove(type)
        context.stdout(`removed event type ${type}\n`)
      })
    })
}

async function readJsonSchema(file: string): Promise<object> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as object
  } catch (error) {
    throw new WhispererError(
      'invalid_options',
      `Cannot read the JSON Schema ${file}: ${(error as Error).message}`,
    )
  }
}
