// The fault suite (`npm run test:faults`, issue #8): malformed inputs, SIGKILLed
// applies, racing pushes and a failing tmux against real git and tmux. Kept out
// of `npm test` (vitest.config.ts excludes test/faults) so it runs once in CI.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/helpers/generate.ts', 'test/faults/figures.ts'],
    // Each file is one long scenario with its own budget; 10 minutes in all on two cores.
    testTimeout: 240_000,
    hookTimeout: 60_000,
    // Forks: the files chdir and change PATH-free env of their own process only.
    pool: 'forks',
    maxWorkers: 2,
  },
});
