// The same seeded training run in Node, Deno and headless Chromium must end with
// the same weights, bit for bit (compared by SHA-256).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as lk from '../dist/index.js';
import { CROSS_ORIGIN_ISOLATION, launchChromium, pageResult, serveStatic } from './browser.js';
// @ts-expect-error plain JS fixture shared with the other runtimes
import { seededRun, threadedRun } from './runtimes/seeded-run.js';

const root = new URL('..', import.meta.url).pathname;
type RunResult = { sha256: string; vaeSha256: string; convSha256: string; ssganSha256: string; m2Sha256: string; loss: number[] };
type ThreadedResult = RunResult & { threads: number; info: { shared: boolean; why?: string } };
let nodeResult: RunResult;

/** The run's five fingerprints (the autoencoder, the VAE, the convolutional GAN, the semi-supervised GAN and VAE) equal the reference's. */
function expectSameHashes(got: RunResult, want: RunResult, where: string): void {
  expect(got.sha256, `${where}: the autoencoder`).toBe(want.sha256);
  expect(got.vaeSha256, `${where}: the VAE`).toBe(want.vaeSha256);
  expect(got.convSha256, `${where}: the convolutional GAN`).toBe(want.convSha256);
  expect(got.ssganSha256, `${where}: the semi-supervised GAN`).toBe(want.ssganSha256);
  expect(got.m2Sha256, `${where}: the semi-supervised VAE`).toBe(want.m2Sha256);
}
let nodeThreaded: ThreadedResult;

beforeAll(async () => {
  nodeResult = await seededRun(lk);
  nodeThreaded = await threadedRun(lk, 2);
  lk.setThreads('auto');
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
    expectSameHashes(result, nodeResult, 'Deno');
    expect(result.loss).toEqual(nodeResult.loss);
  });

  it('Node and Deno on 2 threads give the same SHA-256 as each other and as 1 thread', () => {
    // SHA-256 of the large run from the single-threaded build before threads existed.
    expect(nodeThreaded.threads).toBe(2);
    expect(nodeThreaded.sha256).toBe('6ecff5938a2953e3bde3340e08374a77903eb00265ad6a8cd48ec0de42f258bb');
    const out = execFileSync(join(root, 'node_modules', '.bin', 'deno'), ['run', '--allow-read', '--no-prompt', join(root, 'test/runtimes/deno-main.js'), '2'], {
      encoding: 'utf8',
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    });
    const deno = JSON.parse(out.trim().split('\n').at(-1)!) as ThreadedResult;
    expect(deno.threads, JSON.stringify(deno.info)).toBe(2);
    expectSameHashes(deno, nodeThreaded, 'Deno on 2 threads');
    expect(deno.loss).toEqual(nodeThreaded.loss);
  });

  describe('Chromium', () => {
    let site: Awaited<ReturnType<typeof serveStatic>>;
    beforeAll(async () => {
      site = await serveStatic(root, CROSS_ORIGIN_ISOLATION);
    });
    afterAll(() => site.close());

    it('headless Chromium gives the same SHA-256 as Node', async () => {
      const browser = await launchChromium();
      try {
        const result = await pageResult<RunResult>(browser, `${site.url}/test/runtimes/page.html`);
        expectSameHashes(result, nodeResult, 'Chromium');
        expect(result.loss).toEqual(nodeResult.loss);
      } finally {
        await browser.close();
      }
    });

    it('a page that is not cross-origin isolated trains on 1 thread, says so once, and gets the same SHA-256', async () => {
      const plain = await serveStatic(root);
      const browser = await launchChromium();
      try {
        const logs: string[] = [];
        const result = await pageResult<ThreadedResult>(browser, `${plain.url}/test/runtimes/page.html?threads=2`, logs);
        expect(result.threads).toBe(1);
        expect(result.info.shared).toBe(false);
        expect(result.info.why).toMatch(/not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
        expect(logs.filter((l) => /latentkit: training on 1 thread/.test(l)), logs.join('\n')).toHaveLength(1);
        expectSameHashes(result, nodeThreaded, 'Chromium');
      } finally {
        await browser.close();
        await plain.close();
      }
    });

    it('headless Chromium on 2 threads (cross-origin isolated page) gives the same SHA-256 as Node', async () => {
      const browser = await launchChromium();
      try {
        const result = await pageResult<ThreadedResult>(browser, `${site.url}/test/runtimes/page.html?threads=2`);
        expect(result.threads, JSON.stringify(result.info)).toBe(2);
        expectSameHashes(result, nodeThreaded, 'Chromium');
        expect(result.loss).toEqual(nodeThreaded.loss);
      } finally {
        await browser.close();
      }
    });
  });
});
