#!/usr/bin/env node
// Builds crates/wasm for wasm32-unknown-unknown twice, and commits nothing:
//   wasm/latentkit.wasm       the exact tier: 128-bit SIMD, no fused multiply-add, the same bits
//                             on every engine;
//   wasm/latentkit-fast.wasm  the fast tier: the same sources with relaxed SIMD, whose GEMM
//                             micro-kernel uses f32x4.relaxed_madd (fused where the CPU has FMA);
// and wasm/latentkit.wasm.json (the source hash and both modules' SHA-256).
// The toolchain is Debian's Rust 1.96 (rustc-web, cargo-web, rust-web-src, lld-22): it ships no
// wasm32 standard library, so std is built from its vendored sources (-Zbuild-std), offline.
//   node scripts/build-wasm.mjs          rebuild
//   node scripts/build-wasm.mjs --check  exit 1 if a committed .wasm is stale
//   node scripts/build-wasm.mjs --which  print the toolchain it would use (exit 1: none found)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rustSourceHash } from './source-hash.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outMeta = join(root, 'wasm', 'latentkit.wasm.json');
const TARGET = 'wasm32-unknown-unknown';
/** relaxed SIMD's intrinsics are stable from Rust 1.82. */
const MIN_RUST = [1, 82];
const TIERS = [
  { name: 'exact', file: 'latentkit.wasm', features: '+simd128', wasmOpt: true },
  // Debian's binaryen cannot parse relaxed-SIMD opcodes, so this one is LLVM's output as is.
  { name: 'fast', file: 'latentkit-fast.wasm', features: '+simd128,+relaxed-simd', wasmOpt: false },
];
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

if (process.argv.includes('--check')) {
  const meta = existsSync(outMeta) ? JSON.parse(readFileSync(outMeta, 'utf8')) : null;
  const now = rustSourceHash(root);
  for (const tier of TIERS) {
    const path = join(root, 'wasm', tier.file);
    const recorded = meta?.modules?.[tier.name];
    if (!meta || meta.sourceHash !== now || !recorded || !existsSync(path)) {
      console.error(`wasm/${tier.file} is stale: built from sources ${meta?.sourceHash ?? '(none)'}, ` +
        `crates/ now hash to ${now}. Run \`npm run build:wasm\` and commit wasm/.`);
      process.exit(1);
    }
    const sha = sha256(readFileSync(path));
    if (sha !== recorded.sha256) {
      console.error(`wasm/${tier.file} does not match wasm/latentkit.wasm.json (sha256 ${sha}, recorded ${recorded.sha256}).`);
      process.exit(1);
    }
  }
  console.log(`wasm/ is up to date (sources ${now.slice(0, 12)}).`);
  process.exit(0);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * The system's rustc and cargo (rustup's come first on PATH on some machines, so they are looked
 * up on the default PATH), when rustc is new enough and its sysroot holds the library sources
 * with their crates vendored, which building std offline needs.
 */
function findToolchain() {
  const lookup = (tool) => run('sh', ['-c', `command -v -p ${tool}`]);
  const rustc = lookup('rustc');
  const cargo = lookup('cargo');
  const install = 'Install Rust 1.96 from Debian: sudo apt-get install -y rustc-web cargo-web rust-web-src lld-22';
  const fail = (why) => {
    console.error(`No Rust toolchain that builds ${TARGET}: ${why}.\n${install}`);
    process.exit(1);
  };
  if (!rustc || !cargo) fail('no rustc or cargo on the default PATH');
  const version = run(rustc, ['--version']) ?? '';
  const [major, minor] = (version.match(/(\d+)\.(\d+)/)?.slice(1) ?? ['0', '0']).map(Number);
  if (major < MIN_RUST[0] || (major === MIN_RUST[0] && minor < MIN_RUST[1])) fail(`${rustc} is ${version || 'unknown'}; relaxed SIMD needs ≥ ${MIN_RUST.join('.')}`);
  const sysroot = run(rustc, ['--print', 'sysroot']);
  const vendor = join(sysroot ?? '', 'lib', 'rustlib', 'src', 'rust', 'library', 'vendor');
  if (!sysroot || !existsSync(vendor)) fail(`${rustc} has no library sources with vendored crates (${vendor})`);
  // rustc links wasm with rust-lld, which Debian puts in rust-web-llvm (with all of LLVM); lld-22
  // alone has the same linker as wasm-ld-22, which rustc is then pointed at.
  const linker = ['rust-lld', 'wasm-ld-22', 'wasm-ld'].map(lookup).find(Boolean);
  if (!linker) fail('no rust-lld or wasm-ld (lld-22) to link wasm');
  return { rustc, cargo, vendor, version, linker };
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
  console.log(`${tc.version} (${tc.rustc}), linking with ${tc.linker}`);
  process.exit(0);
}
console.log(`building with ${tc.version} (${tc.rustc})`);
const wasmOptVersion = run('wasm-opt', ['--version']);
if (!wasmOptVersion) console.warn('wasm-opt not found (Debian: apt-get install binaryen); the exact module is built but not optimised.');
const meta = { sourceHash: rustSourceHash(root), rustc: tc.version, wasmOpt: wasmOptVersion ?? 'none', modules: {} };
mkdirSync(join(root, 'wasm'), { recursive: true });
/** Runs cargo for one tier (its own target directory, so the two can build at once); its output is kept for an error. */
function cargoBuild(tier) {
  // RUSTC_BOOTSTRAP: -Zbuild-std on a stable compiler. --remap-path-prefix keeps the checkout's
  // path out of the binary, so every clone builds the same bytes.
  const linker = tc.linker.endsWith('/rust-lld') ? '' : ` -C linker=${tc.linker}`;
  const env = { ...process.env, RUSTC: tc.rustc, RUSTC_BOOTSTRAP: '1', RUSTFLAGS: `-C target-feature=${tier.features}${linker} --remap-path-prefix=${root}=/latentkit` };
  delete env.RUSTUP_TOOLCHAIN;
  const targetDir = join(root, 'target', `wasm-${tier.name}`);
  const args = ['build', '--release', '--target', TARGET, '-p', 'latentkit-wasm', '--target-dir', targetDir,
    '-Zbuild-std=std,panic_abort', '--offline',
    '--config', "source.crates-io.replace-with='vendored'", '--config', `source.vendored.directory='${tc.vendor}'`];
  return new Promise((resolve, reject) => {
    const child = spawn(tc.cargo, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(join(targetDir, TARGET, 'release', 'latentkit_wasm.wasm'));
      else reject(new Error(`cargo build of the ${tier.name} tier failed (exit ${code}):\n${output}`));
    });
  });
}

// Each tier builds its own standard library (the target features differ), mostly one crate at a
// time, so the two tiers build side by side.
const t0 = performance.now();
const built = await Promise.all(TIERS.map(cargoBuild));
console.log(`cargo built both tiers in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
TIERS.forEach((tier, i) => {
  let bytes = readFileSync(built[i]);
  if (tier.wasmOpt && wasmOptVersion) {
    const tmp = join(root, 'target', `wasm-${tier.name}`, `${tier.name}.opt.wasm`);
    execFileSync('wasm-opt', ['-O3', '--detect-features', '--strip-debug', '--strip-producers', built[i], '-o', tmp], { stdio: 'inherit' });
    bytes = readFileSync(tmp);
  }
  bytes = stripCustomSections(bytes);
  writeFileSync(join(root, 'wasm', tier.file), bytes);
  meta.modules[tier.name] = { file: tier.file, features: tier.features, sha256: sha256(bytes), bytes: bytes.length, wasmOpt: tier.wasmOpt && !!wasmOptVersion };
  console.log(`wrote wasm/${tier.file} (${bytes.length} bytes)`);
});
writeFileSync(outMeta, JSON.stringify(meta, null, 2) + '\n');
console.log(`wrote wasm/latentkit.wasm.json (sources ${meta.sourceHash.slice(0, 12)})`);
