import { defineConfig } from 'vitest/config';

// Two cores. The playground's tests measure the page's responsiveness (main-thread long tasks)
// and its training rate, so they run first and alone; then everything else, two files at a time
// (the runtime tests start Deno and Chromium, the PyTorch tests two DDP processes).
const shared = { testTimeout: 120_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'page timing', include: ['test/playground.test.ts'], maxWorkers: 1, sequence: { groupOrder: 1 } } },
      { test: { ...shared, name: 'suite', include: ['test/**/*.test.ts'], exclude: ['test/playground.test.ts'], maxWorkers: 2, sequence: { groupOrder: 2 } } },
    ],
  },
});
