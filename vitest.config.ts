import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start tmux servers and git repos; two cores, so keep it modest.
    maxWorkers: 2,
  },
});
