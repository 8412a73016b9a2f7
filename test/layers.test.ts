import { readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'

/**
 * The layers of src/, checked over the import graph: a pure core, storage and telemetry (metrics
 * and traces) on the core, delivery
 * below the services, an API that sees only services, and a CLI and server that nothing imports.
 */
const root = resolve(import.meta.dirname, '..', 'src')

/** Node modules the pure core may use: computation only, no I/O. */
const pureNodeModules = new Set(['node:crypto', 'node:util'])

/** Packages that do I/O or hold a connection: never in the core. */
const ioPackages = ['pg', '@electric-sql/pglite', 'undici', 'hono', '@hono/', 'pino', 'commander']

interface Import {
  from: string
  specifier: string
  /** The file imported, relative to src/, for imports inside the tree. */
  target?: string
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** Every static, re-exported and dynamic import of a file. */
function importsOf(file: string, text: string): Import[] {
  const specifiers = [
    ...text.matchAll(
      /^\s*(?:import|export)\s+(?:type\s+)?(?:\{[^}]*\}|\*(?:\s+as\s+\w+)?|\w+(?:\s*,\s*\{[^}]*\})?)\s+from\s+['"]([^'"]+)['"]/gm,
    ),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((match) => match[1]!)
  const from = relative(root, file)
  return specifiers.map((specifier) => {
    if (!specifier.startsWith('.')) return { from, specifier }
    return { from, specifier, target: relative(root, resolve(dirname(file), specifier)) }
  })
}

const layerOf = (path: string): string => (path.includes('/') ? path.split('/')[0]! : path)

/** The rule an import breaks, or null when it keeps to the layers. */
function violation({ from, specifier, target }: Import): string | null {
  const layer = layerOf(from)
  const to = target === undefined ? null : layerOf(target)
  if (target?.startsWith('..') && target !== join('..', 'package.json')) {
    return 'imports from outside src/'
  }
  if (layer === 'core') {
    if (to !== null && to !== 'core') return 'core imports nothing else in the tree'
    const nodeModule = specifier.startsWith('node:') || builtinModules.includes(specifier)
    if (nodeModule && !pureNodeModules.has(specifier)) return `core uses only pure Node modules`
    if (ioPackages.some((name) => specifier === name || specifier.startsWith(`${name}/`)))
      return 'core does no I/O'
  }
  if (layer === 'storage' && to !== null && to !== 'storage' && to !== 'core') {
    return 'storage imports only core'
  }
  if (layer === 'telemetry' && to !== null && to !== 'telemetry' && to !== 'core') {
    return 'telemetry imports only core'
  }
  if (layer === 'delivery' && (to === 'service' || to === 'api' || to === 'server')) {
    return 'delivery never imports service, api or server'
  }
  if (layer === 'api' && (to === 'storage' || to === 'delivery' || to === 'whisperer.ts')) {
    return 'api imports neither storage, delivery nor the facade'
  }
  if (to === 'cli' && layer !== 'cli') return 'nothing imports cli'
  if (to === 'server' && layer !== 'server' && layer !== 'cli') return 'nothing but the CLI imports server'
  return null
}

describe('layers', () => {
  test('every import in src/ keeps to the layers', () => {
    const broken = sourceFiles(root)
      .flatMap((file) => importsOf(file, readFileSync(file, 'utf8')))
      .map((edge) => ({ ...edge, rule: violation(edge) }))
      .filter((edge) => edge.rule !== null)
      .map((edge) => `${edge.from} imports ${edge.specifier}: ${edge.rule}`)
    expect(broken).toEqual([])
  })

  test('the check sees each kind of forbidden import', () => {
    const file = (path: string) => join(root, path)
    const cases: [string, string][] = [
      ['core/a.ts', "import { Store } from '../storage/store.ts'"],
      ['core/a.ts', "import { lookup } from 'node:dns'"],
      ['core/a.ts', "import pg from 'pg'"],
      ['storage/a.ts', "import type { Worker } from '../delivery/worker.ts'"],
      ['telemetry/a.ts', "import type { Store } from '../storage/store.ts'"],
      ['delivery/a.ts', "export { x } from '../service/tokens.ts'"],
      ['api/a.ts', "const m = await import('../storage/store.ts')"],
      ['api/a.ts', "import type { Whisperer } from '../whisperer.ts'"],
      ['service/a.ts', "import { main } from '../cli/main.ts'"],
      ['index.ts', "import { serve } from './server/server.ts'"],
    ]
    for (const [path, line] of cases) {
      const edges = importsOf(file(path), line)
      expect(edges, line).toHaveLength(1)
      expect(violation(edges[0]!), `${path}: ${line}`).not.toBeNull()
    }
    expect(violation(importsOf(file('core/a.ts'), "import { z } from 'zod'")[0]!)).toBeNull()
    expect(violation(importsOf(file('cli/a.ts'), "import { s } from '../server/server.ts'")[0]!)).toBeNull()
  })
})
