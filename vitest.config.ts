import { configDefaults, defineConfig } from 'vitest/config'

// WHISPERER_DRIZZLE_ORM: the directory of another drizzle-orm, which the source and the tests then
// import instead of the installed one (test/model-hooks/drizzle-versions.test.ts sets it).
const drizzle = process.env.WHISPERER_DRIZZLE_ORM

export default defineConfig({
  resolve: {
    alias: drizzle ? [{ find: /^drizzle-orm(?=\/|$)/, replacement: drizzle }] : [],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // The chaos suite restarts its own PostgreSQL and kills processes: `npm run test:chaos`.
    exclude: [...configDefaults.exclude, 'test/chaos/**'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Two files at a time: most of a file's time is spent waiting on receivers, processes and
    // databases, and vitest's default on a 2-core machine (cores - 1) runs them one by one.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
