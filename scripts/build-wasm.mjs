#!/usr/bin/env node
// Builds crates/wasm for wasm32-unknown-unknown with SIMD and commits nothing:
// it writes wasm/latentkit.wasm and wasm/latentkit.wasm.json (the source hash).
//   node scripts/build-wasm.mjs          rebuild
//   node scripts/build-wasm.mjs --check  exit 1 if the committed .wasm is stale
//   node scripts/build-wasm.mjs --which  print the toolchain it would use, after compiling and
//                                        linking a tiny wasm with it (exit 1: none works)
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rustSourceHash } from './source-hash.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outWasm = join(root, 'wasm', 'latentkit.wasm');
const outMeta = join(root, 'wasm', 'latentkit.wasm.json');
const TARGET = 'wasm32-unknown-unknown';

if (process.argv.includes('--check')) {
  const meta = existsSync(outMeta) ? JSON.parse(readFileSync(outMeta, 'utf8')) : null;
  const now = rustSourceHash(root);
  if (!meta || meta.sourceHash !== now || !existsSync(outWasm)) {
    console.error(`wasm/latentkit.wasm is stale: built from sources ${meta?.sourceHash ?? '(none)'}, ` +
      `crates/ now hash to ${now}. Run \`npm run build:wasm\` and commit wasm/.`);
    process.exit(1);
  }
  const sha = createHash('sha256').update(readFileSync(outWasm)).digest('hex');
  if (sha !== meta.wasmSha256) {
    console.error(`wasm/latentkit.wasm does not match wasm/latentkit.wasm.json (sha256 ${sha}, recorded ${meta.wasmSha256}).`);
    process.exit(1);
  }
  console.log(`wasm/latentkit.wasm is up to date (sources ${now.slice(0, 12)}).`);
  process.exit(0);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return r.status === 0 ? r.stdout.trim() : null;
}

// Compiles and links a one-function cdylib for the target: proves the compiler, the
// target's standard library and the linker (Debian's rustc links wasm with lld-14's
// rust-lld, which libstd-rust-dev-wasm32 only recommends). Returns null or the error.
function probeLink(rustc) {
  const dir = mkdtempSync(join(tmpdir(), 'lk-probe-'));
  try {
    writeFileSync(join(dir, 'probe.rs'), '#[no_mangle]\npub extern "C" fn probe(x: i32) -> i32 { x + 1 }\n');
    const r = spawnSync(rustc, ['--target', TARGET, '--crate-type', 'cdylib', '-C', 'opt-level=1',
      '-C', 'target-feature=+simd128', '-o', join(dir, 'probe.wasm'), join(dir, 'probe.rs')], { encoding: 'utf8' });
    if (r.status === 0 && existsSync(join(dir, 'probe.wasm'))) return null;
    const lines = `${r.stderr ?? ''}${r.error ? r.error.message : ''}`.split('\n').filter((l) => /^error/.test(l));
    return lines.length ? lines.join('; ') : `rustc exited with ${r.status}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// A toolchain is usable when its rustc compiles and links a wasm32 cdylib and it has cargo.
function findToolchain() {
  const candidates = [];
  // 1. rustup's default toolchain, when the target was added there.
  const rustupRustc = run('rustup', ['which', 'rustc']);
  const rustupCargo = run('rustup', ['which', 'cargo']);
  if (rustupRustc && rustupCargo) candidates.push({ name: 'rustup', rustc: rustupRustc, cargo: rustupCargo });
  // 2. Debian's rustc, cargo and libstd-rust-dev-wasm32, beside rustup's.
  if (existsSync('/usr/bin/rustc') && existsSync('/usr/bin/cargo')) candidates.push({ name: 'debian', rustc: '/usr/bin/rustc', cargo: '/usr/bin/cargo' });
  // 3. Whatever is first on PATH.
  const pathRustc = run('which', ['rustc']);
  const pathCargo = run('which', ['cargo']);
  if (pathRustc && pathCargo) candidates.push({ name: 'PATH', rustc: pathRustc, cargo: pathCargo });
  const problems = [];
  for (const c of candidates) {
    const sysroot = run(c.rustc, ['--print', 'sysroot']);
    if (!sysroot || !existsSync(join(sysroot, 'lib', 'rustlib', TARGET, 'lib'))) {
      problems.push(`${c.name} (${c.rustc}): no ${TARGET} standard library`);
      continue;
    }
    const failure = probeLink(c.rustc);
    if (failure) {
      problems.push(`${c.name} (${c.rustc}): cannot link a ${TARGET} module: ${failure}`);
      continue;
    }
    return { ...c, version: run(c.rustc, ['--version']) };
  }
  if (candidates.length === 0) problems.push('no rustc found');
  console.error(`No Rust toolchain that builds ${TARGET}:\n  ${problems.join('\n  ')}\n` +
    `Install one of:\n` +
    `  Debian/Ubuntu: sudo apt-get install -y rustc cargo libstd-rust-dev-wasm32 lld-14 binaryen\n` +
    `  rustup:        rustup target add ${TARGET}`);
  process.exit(1);
}

// Drop custom sections (names, producers, debug info): they are most of an unoptimised binary.
function stripCustomSections(bytes) {
  const out = [bytes.subarray(0, 8)];
  let i = 8;
  while (i < bytes.length) {
    const start = i;
    const id = bytes[i++];
    let size = 0, shift = 0, b;
    do { b = bytes[i++]; size |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80);
    const end = i + size;
    if (id !== 0) out.push(bytes.subarray(start, end));
    i = end;
  }
  return Buffer.concat(out);
}

const tc = findToolchain();
if (process.argv.includes('--which')) {
  console.log(`${tc.version} (${tc.name}: ${tc.rustc})`);
  process.exit(0);
}
console.log(`building with ${tc.version} (${tc.name}: ${tc.rustc})`);
// --remap-path-prefix keeps the checkout's path out of the binary, so every clone builds the same bytes.
const env = { ...process.env, RUSTC: tc.rustc, RUSTFLAGS: `-C target-feature=+simd128 --remap-path-prefix=${root}=/latentkit` };
delete env.RUSTUP_TOOLCHAIN;
execFileSync(tc.cargo, ['build', '--release', '--target', TARGET, '-p', 'latentkit-wasm'], { cwd: root, env, stdio: 'inherit' });
const built = join(root, 'target', TARGET, 'release', 'latentkit_wasm.wasm');

let bytes = readFileSync(built);
let optimizer = 'none';
const wasmOptVersion = run('wasm-opt', ['--version']);
if (wasmOptVersion) {
  const tmp = join(root, 'target', 'latentkit.opt.wasm');
  execFileSync('wasm-opt', ['-O3', '--enable-simd', '--enable-bulk-memory', '--strip-debug', '--strip-producers', built, '-o', tmp], { stdio: 'inherit' });
  bytes = readFileSync(tmp);
  optimizer = wasmOptVersion;
} else {
  console.warn('wasm-opt not found (Debian: apt-get install binaryen); the binary is built but not optimised.');
}
bytes = stripCustomSections(bytes);
mkdirSync(dirname(outWasm), { recursive: true });
writeFileSync(outWasm, bytes);
const meta = {
  sourceHash: rustSourceHash(root),
  wasmSha256: createHash('sha256').update(bytes).digest('hex'),
  bytes: bytes.length,
  rustc: tc.version,
  wasmOpt: optimizer,
};
writeFileSync(outMeta, JSON.stringify(meta, null, 2) + '\n');
console.log(`wrote wasm/latentkit.wasm (${bytes.length} bytes, sources ${meta.sourceHash.slice(0, 12)})`);
