// Headless Chromium (Debian's, driven by playwright-core) and a static file server on loopback,
// shared by the tests that run latentkit in a browser.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import type { Browser } from 'playwright-core';

export function findChromium(): string {
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

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: findChromium(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html', '.css': 'text/css', '.wasm': 'application/wasm', '.png': 'image/png', '.svg': 'image/svg+xml' };

/** The headers that make a page cross-origin isolated, so it may share WebAssembly memory with workers. */
export const CROSS_ORIGIN_ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/** Serves the files under `root` on 127.0.0.1 (with extra `headers`); resolves to the server and its base URL. */
export async function serveStatic(root: string, headers: Record<string, string> = {}): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url!, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(root, path);
    if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...headers }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Opens `url`, waits for `window.result` and returns it; page errors fail with the console log (kept in `logs`). */
export async function pageResult<T>(browser: Browser, url: string, logs: string[] = []): Promise<T> {
  const page = await browser.newPage();
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, null, { timeout: 60_000 });
  const result = (await page.evaluate(() => (window as unknown as { result: Promise<unknown> }).result)) as T & { error?: string };
  if (result.error !== undefined) throw new Error(`page error: ${result.error}\n${logs.join('\n')}`);
  return result;
}
