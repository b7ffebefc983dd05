// The same seeded training run in Node, Deno and headless Chromium must end with
// the same weights, bit for bit (compared by SHA-256).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as lk from '../dist/index.js';
// @ts-expect-error plain JS fixture shared with the other runtimes
import { seededRun } from './runtimes/seeded-run.js';

const root = new URL('..', import.meta.url).pathname;
type RunResult = { sha256: string; loss: number[] };
let nodeResult: RunResult;

beforeAll(async () => {
  nodeResult = await seededRun(lk);
});

function findChromium(): string {
  for (const cmd of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      const p = execFileSync('which', [cmd], { encoding: 'utf8' }).trim();
      if (p) return p;
    } catch {
      // try the next name
    }
  }
  throw new Error('no Chromium found: install it (Debian: apt-get install -y chromium), as .ci/run does');
}

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
    const types: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.wasm': 'application/wasm' };
    const server = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url!, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
      const file = join(root, path);
      if (!file.startsWith(root) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    });
    let port = 0;
    beforeAll(async () => {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('headless Chromium gives the same SHA-256 as Node', async () => {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({
        executablePath: findChromium(),
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
      });
      try {
        const page = await browser.newPage();
        const logs: string[] = [];
        page.on('console', (m) => logs.push(m.text()));
        page.on('pageerror', (e) => logs.push(String(e)));
        await page.goto(`http://127.0.0.1:${port}/test/runtimes/page.html`);
        await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, null, { timeout: 60_000 });
        const result = (await page.evaluate(() => (window as unknown as { result: Promise<unknown> }).result)) as RunResult & { error?: string };
        expect(result.error, `page error: ${result.error} ${logs.join('\n')}`).toBeUndefined();
        expect(result.sha256).toBe(nodeResult.sha256);
        expect(result.loss).toEqual(nodeResult.loss);
      } finally {
        await browser.close();
      }
    });
  });
});
