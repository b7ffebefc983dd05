import { defineConfig } from 'vitest/config';

// Two cores. The playground's tests train in headless Chromium on every core but one, so they run
// first and alone; then everything else, two files at a time (the runtime tests start Deno and
// Chromium, the PyTorch tests two DDP processes). No test bounds a time or a rate: waits for
// training progress have limits that only a hung run reaches, hence the long timeouts: the
// 8-Gaussian ring's 10,000 iterations (19 s alone) took 161 s beside three training runs.
const shared = { testTimeout: 600_000, hookTimeout: 600_000 };

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, testTimeout: 900_000, name: 'page', include: ['test/playground.test.ts'], maxWorkers: 1, sequence: { groupOrder: 1 } } },
      { test: { ...shared, name: 'suite', include: ['test/**/*.test.ts'], exclude: ['test/playground.test.ts'], maxWorkers: 2, sequence: { groupOrder: 2 } } },
    ],
  },
});
