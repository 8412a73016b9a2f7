import { defineConfig } from 'vitest/config'

/** The chaos suite: real processes, a PostgreSQL server of its own, one run at a time. */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
})
