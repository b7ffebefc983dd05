import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: the runtime tests start Deno and Chromium, keep the rest from starving them.
    maxWorkers: 2,
  },
});
