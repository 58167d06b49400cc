import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // src/generated/validators.ts from schemas/ (scripts/validators.mjs): the tests run src/, which imports it.
    globalSetup: ['test/helpers/generate.ts'],
    // The fault suite runs on its own: npm run test:faults (vitest.faults.config.ts).
    exclude: [...configDefaults.exclude, 'test/faults/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start tmux servers and git repos; two cores, so keep it modest.
    maxWorkers: 2,
  },
});
