import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/tmpdir.ts'],
    disableConsoleIntercept: true,
    testTimeout: 60000,
    hookTimeout: 60000,
    pool: 'forks',
  },
})
