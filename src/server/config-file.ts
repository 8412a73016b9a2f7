import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { WhispererError } from '../core/errors.ts'
import { issuesFromZod } from '../core/zod-issues.ts'
import type { StoredEventType } from '../storage/store.ts'

/** `whisperer.config.json`: what the standalone service declares without code. */
const configFileSchema = z.strictObject({
  $schema: z.string().optional(),
  eventTypes: z
    .array(
      z.strictObject({
        type: z.string().min(1).max(124),
        description: z.string().max(1000).optional(),
        jsonSchema: z.record(z.string(), z.unknown()).optional(),
        fields: z.array(z.string().min(1)).optional(),
      }),
    )
    .default([]),
})

export type ConfigFile = z.infer<typeof configFileSchema>

/** The file named by `--config` or WHISPERER_CONFIG, else `./whisperer.config.json` if there is one. */
export async function readConfigFile(
  path: string | undefined,
): Promise<{ path: string | null; config: ConfigFile }> {
  const file = path ?? 'whisperer.config.json'
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if (!path && (error as NodeJS.ErrnoException).code === 'ENOENT')
      return { path: null, config: { eventTypes: [] } }
    throw new WhispererError(
      'invalid_options',
      `Cannot read the configuration file ${file}: ${(error as Error).message}`,
    )
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new WhispererError('invalid_options', `${file} is not valid JSON: ${(error as Error).message}`)
  }
  const parsed = configFileSchema.safeParse(json)
  if (!parsed.success) {
    const problems = issuesFromZod(parsed.error).map((issue) => `${issue.path || '(file)'}: ${issue.message}`)
    throw new WhispererError('invalid_options', `${file} is invalid: ${problems.join('; ')}`)
  }
  return { path: file, config: parsed.data }
}

export function eventTypesOf(config: ConfigFile): StoredEventType[] {
  return config.eventTypes.map((definition) => ({
    type: definition.type,
    description: definition.description ?? null,
    jsonSchema: definition.jsonSchema ?? null,
    fields: definition.fields ?? null,
  }))
}
