/**
 * `npm run pglite:initdb`: runs PGlite's initdb once, with Whisperer's PGlite settings, and writes
 * the data directory as the tarball a new embedded database starts from
 * (src/storage/pglite-initdb.tar.gz), so that no start pays for initdb. It runs at install (the
 * `prepare` script of `npm ci` and `npm install` in a checkout) and before packing; run it again
 * after upgrading PGlite, as a test says. Without the tarball, a new database runs initdb itself.
 */
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { initialisedDataDir, pgliteSettings } from '../src/storage/pglite-database.ts'

const pglite = await PGlite.create({ postgresqlconf: pgliteSettings })
const tarball = await pglite.dumpDataDir('gzip')
await pglite.close()
await writeFile(initialisedDataDir, Buffer.from(await tarball.arrayBuffer()))
console.log(`wrote ${fileURLToPath(initialisedDataDir)} (${tarball.size} bytes)`)
