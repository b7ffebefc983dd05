// The package as users get it: `npm pack`'s tarball installed into an empty project (offline:
// `npm ci` has put its dependencies in the npm cache), then used from Node, the CLI, tsc,
// an esbuild browser bundle in Chromium, and Deno.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, pageResult, serveStatic } from './browser.js';

const root = new URL('..', import.meta.url).pathname;
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
let project = '';
let tarball = '';

type TrainResult = { first: number; last: number; sameAfterLoad: boolean; ganIterations: number; samples: number; entries?: string[] };

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status} in ${cwd}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function expectTrained(r: TrainResult, where: string): void {
  expect(r.last, `${where}: autoencoder loss ${r.first} → ${r.last}`).toBeLessThan(r.first * 0.9);
  expect(r.sameAfterLoad, `${where}: save/load`).toBe(true);
  expect([r.ganIterations, r.samples], `${where}: GAN`).toEqual([10, 24]);
}

type LockEntry = { version: string; resolved?: string; integrity?: string; dependencies?: Record<string, string>; license?: string; bin?: Record<string, string> };

/**
 * package.json and package-lock.json of a project depending on the tarball. `npm ci` caches
 * tarballs but not the registry's metadata, so an offline `npm install` could not resolve the
 * dependencies' ranges; a lockfile pinned to the repo's own lock entries needs only the cache.
 */
function writeConsumerManifests(dir: string, tgz: string): void {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; bin: Record<string, string> };
  const packages: Record<string, LockEntry> = {
    '': { version: '1.0.0', dependencies: { latentkit: `file:${tgz}` } } as LockEntry,
    // npm ci links commands from the lock's `bin`, not the tarball's package.json.
    'node_modules/latentkit': { version: manifest.version, resolved: `file:${tgz}`, dependencies: manifest.dependencies, bin: manifest.bin },
  };
  const registry = sh('npm', ['config', 'get', 'registry'], root).trim().replace(/\/?$/, '/');
  // Each dependency where npm finds it: the nearest node_modules up from the package that needs it
  // (a version another package needs hoisted, so nested under its dependent, stays nested).
  const where = (parent: string, name: string): string | undefined => {
    for (let p = parent; ; p = p.slice(0, Math.max(0, p.lastIndexOf('/node_modules/')))) {
      const key = `${p ? `${p}/` : ''}node_modules/${name}`;
      if (lock.packages[key]) return key;
      if (!p) return undefined;
    }
  };
  const pending = Object.keys(manifest.dependencies).map((name) => ['node_modules/latentkit', name] as const);
  while (pending.length > 0) {
    const [parent, name] = pending.pop()!;
    const key = where(parent, name);
    if (!key) throw new Error(`package-lock.json has no entry for ${name}, which ${parent} needs`);
    if (packages[key]) continue;
    const entry = lock.packages[key]!;
    // The repo's lock records no download address; npm's cache finds the tarball by its integrity.
    const resolved = entry.resolved ?? `${registry}${name}/-/${name.split('/').at(-1)}-${entry.version}.tgz`;
    packages[key] = { version: entry.version, resolved, integrity: entry.integrity, dependencies: entry.dependencies, license: entry.license };
    pending.push(...Object.keys(entry.dependencies ?? {}).map((dep) => [key, dep] as const));
  }
  const pkg = { name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies: { latentkit: `file:${tgz}` } };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2));
}

beforeAll(() => {
  const packDir = mkdtempSync(join(tmpdir(), 'lk-pack-'));
  // --ignore-scripts: dist/ is already built, and `prepare` would rebuild it under the other test files.
  const packed = JSON.parse(sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], root)) as { filename: string }[];
  tarball = join(packDir, packed[0]!.filename);
  project = mkdtempSync(join(tmpdir(), 'lk-consumer-'));
  writeConsumerManifests(project, tarball);
  sh('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], project);
  for (const f of readdirSync(join(root, 'test/package'))) copyFileSync(join(root, 'test/package', f), join(project, f));
}, 120_000);

describe('the packed package', () => {
  it('holds only what users need', () => {
    const listing = JSON.parse(sh('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], root)) as { files: { path: string }[] }[];
    const files = listing[0]!.files.map((f) => f.path);
    const unexpected = files.filter((f) => !/^(dist\/[\w.-]+\.(js|d\.ts|js\.map)|bin\/[\w-]+\.mjs|README\.md|LICENSE|package\.json)$/.test(f));
    expect(unexpected, `files users do not need: ${unexpected.join(', ')}`).toEqual([]);
    for (const needed of ['dist/index.js', 'dist/index.d.ts', 'dist/index.js.map', 'dist/png.js', 'dist/jpeg.js', 'dist/node.js', 'dist/onnx.js', 'bin/latentkit.mjs', 'LICENSE']) {
      expect(files, needed).toContain(needed);
    }
  });

  it('ships debuggable code: only whitespace minified (our names kept), source-mapped, errors name our classes', () => {
    const dist = join(project, 'node_modules/latentkit/dist');
    const index = readFileSync(join(dist, 'index.js'), 'utf8');
    expect(index).toMatch(/\/\/# sourceMappingURL=index\.js\.map\s*$/);
    expect(index).toMatch(/\bvar Autoencoder=class\b/);
    expect(index).toMatch(/\bfunction trainingStep\(plan,rows\)/);
    const map = JSON.parse(readFileSync(join(dist, 'index.js.map'), 'utf8')) as { sources: string[] };
    expect(map.sources.some((s) => s.endsWith('models/autoencoder.ts'))).toBe(true);
    const r = spawnSync('node', ['--enable-source-maps', '--input-type=module', '-e', "import { mlp } from 'latentkit'; mlp([3, 0]);"], { cwd: project, encoding: 'utf8' });
    expect(r.stderr).toMatch(/LatentkitError/);
    expect(r.stderr).toMatch(/\bmlp\b.*\.ts:\d+/);
  });

  it('trains in Node when imported by name; latentkit/node, /jpeg, /png and /onnx import', () => {
    const r = JSON.parse(sh('node', ['consumer.mjs'], project)) as TrainResult;
    expectTrained(r, 'Node');
    expect(r.entries).toEqual(['function', 'function', 'function', 'function']);
  });

  it('npx latentkit --help runs the installed command line', () => {
    expect(sh('npx', ['--offline', 'latentkit', '--help'], project)).toMatch(/usage: latentkit <command>/);
  });

  for (const [module, moduleResolution] of [['node16', 'node16'], ['esnext', 'bundler']] as const) {
    it(`type-checks a consumer with tsc, moduleResolution ${moduleResolution}`, () => {
      const config = { compilerOptions: { module, moduleResolution, target: 'es2022', strict: true, noEmit: true, types: [], lib: ['es2022', 'dom'] }, files: ['typed.ts'] };
      writeFileSync(join(project, `tsconfig.${moduleResolution}.json`), JSON.stringify(config));
      const r = spawnSync(bin('tsc'), ['-p', `tsconfig.${moduleResolution}.json`], { cwd: project, encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).toBe(0);
    });
  }

  it('bundles for the browser with esbuild (no Node built-ins from the main entry) and trains in Chromium', async () => {
    const out = join(project, 'site');
    mkdirSync(out, { recursive: true });
    const result = await build({
      entryPoints: [join(project, 'browser.mjs')], absWorkingDir: project, bundle: true, minify: true, format: 'esm',
      platform: 'browser', outfile: join(out, 'app.js'), metafile: true, logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.includes('node_modules/latentkit/dist/index.js'))).toBe(true);
    const builtins = inputs.filter((i) => /^node:|^(fs|path|os|crypto|worker_threads)$/.test(i));
    expect(builtins, 'Node built-ins in the browser bundle').toEqual([]);
    writeFileSync(join(out, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="app.js"></script>');
    const site = await serveStatic(out);
    const browser = await launchChromium();
    try {
      expectTrained(await pageResult<TrainResult>(browser, `${site.url}/index.html`), 'Chromium');
    } finally {
      await browser.close();
      await site.close();
    }
  });

  it('runs in Deno from the installed node_modules', () => {
    const out = execFileSync(bin('deno'), ['run', '--allow-read', '--allow-env', '--no-prompt', 'consumer.mjs'], {
      cwd: project, encoding: 'utf8', env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    });
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as TrainResult;
    expectTrained(r, 'Deno');
    expect(r.entries).toEqual(['function', 'function', 'function', 'function']);
  });
});
