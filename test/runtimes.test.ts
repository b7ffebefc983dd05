// The same seeded training run in Node, Deno and headless Chromium must end with
// the same weights, bit for bit (compared by SHA-256).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as lk from '../dist/index.js';
import { launchChromium, pageResult, serveStatic } from './browser.js';
// @ts-expect-error plain JS fixture shared with the other runtimes
import { seededRun } from './runtimes/seeded-run.js';

const root = new URL('..', import.meta.url).pathname;
type RunResult = { sha256: string; loss: number[] };
let nodeResult: RunResult;

beforeAll(async () => {
  nodeResult = await seededRun(lk);
});

describe('reproducibility across runtimes', () => {
  it('Node: the run trains (loss goes down)', () => {
    expect(nodeResult.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(nodeResult.loss.at(-1)!).toBeLessThan(nodeResult.loss[0]!);
  });

  it('Deno gives the same SHA-256 as Node', () => {
    const deno = join(root, 'node_modules', '.bin', 'deno');
    expect(existsSync(deno), 'the deno npm package is a devDependency: run npm ci').toBe(true);
    const out = execFileSync(deno, ['run', '--allow-read', '--no-prompt', join(root, 'test/runtimes/deno-main.js')], {
      encoding: 'utf8',
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    });
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as RunResult;
    expect(result.sha256).toBe(nodeResult.sha256);
    expect(result.loss).toEqual(nodeResult.loss);
  });

  describe('Chromium', () => {
    let site: Awaited<ReturnType<typeof serveStatic>>;
    beforeAll(async () => {
      site = await serveStatic(root);
    });
    afterAll(() => site.close());

    it('headless Chromium gives the same SHA-256 as Node', async () => {
      const browser = await launchChromium();
      try {
        const result = await pageResult<RunResult>(browser, `${site.url}/test/runtimes/page.html`);
        expect(result.sha256).toBe(nodeResult.sha256);
        expect(result.loss).toEqual(nodeResult.loss);
      } finally {
        await browser.close();
      }
    });
  });
});
