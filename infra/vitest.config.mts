import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Synthesizing a stack takes a few seconds on a small machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Few files, each synthesizing its own stacks: one fork per core is plenty.
    pool: 'forks',
  },
});
