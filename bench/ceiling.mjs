// The single-thread WebAssembly SIMD ceiling of this machine: a generated module
// runs `chains` independent f32x4 chains acc ← acc·c + d (one mul and one add per
// step, so 8 flops per chain per iteration). Every operand depends on the loop,
// so nothing can be hoisted; the accumulator count with the best rate is reported.
// With `fma`, each step is one f32x4.relaxed_madd (the fast tier's ceiling; the engine
// must have relaxed SIMD).

function uleb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
function section(id, body) {
  return [id, ...uleb(body.length), ...body];
}
function f32x4Const(v) {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 4; i++) dv.setFloat32(4 * i, v + i * 1e-3, true);
  return [0xfd, 0x0c, ...b];
}

/**
 * A module exporting one function `run` (func (param i32) (result f32)) whose locals and body are
 * `func`; with `memory`, it defines one page of (zeroed) linear memory.
 */
function runModule(func, { memory = false } = {}) {
  const code = [1, ...uleb(func.length), ...func];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]),
    ...section(3, [1, 0]),
    ...(memory ? section(5, [1, 0, 1]) : []),
    ...section(7, [1, 3, ...[...'run'].map((c) => c.charCodeAt(0)), 0, 0]),
    ...section(10, code),
  ]);
}

/** (func (param i32 iterations) (result f32)) with `chains` v128 accumulators. */
export function ceilingModule(chains, fma = false) {
  const ITER = 0;
  const acc = (i) => 1 + i;
  const C = 1 + chains;
  const D = 2 + chains;
  const body = [];
  body.push(...f32x4Const(0.99999994), 0x21, C, ...f32x4Const(1e-7), 0x21, D);
  for (let i = 0; i < chains; i++) body.push(...f32x4Const(0.1 + 0.01 * i), 0x21, acc(i));
  body.push(0x03, 0x40); // loop
  for (let i = 0; i < chains; i++) {
    // f32x4.mul (230) then f32x4.add (228), or f32x4.relaxed_madd (261): acc·c + d.
    if (fma) body.push(0x20, acc(i), 0x20, C, 0x20, D, 0xfd, ...uleb(261), 0x21, acc(i));
    else body.push(0x20, acc(i), 0x20, C, 0xfd, ...uleb(230), 0x20, D, 0xfd, ...uleb(228), 0x21, acc(i));
  }
  body.push(0x20, ITER, 0x41, 1, 0x6b, 0x22, ITER, 0x0d, 0, 0x0b); // iter -= 1; br_if loop
  body.push(0x20, acc(0));
  for (let i = 1; i < chains; i++) body.push(0x20, acc(i), 0xfd, ...uleb(228));
  body.push(0xfd, 0x1f, 0, 0x0b); // f32x4.extract_lane 0; end
  const locals = [1, ...uleb(chains + 2), 0x7b];
  return runModule([...locals, ...body]);
}

/**
 * The GEMM micro-kernel's own loop with nothing around it: (func (param i32 blocks) (result f32))
 * running `blocks` times over 256 depth steps of a 4 × 8 tile, each step as gemm/kernel.rs
 * compiles: two v128 loads of B, four v128.load32_splat of A, and eight products added into
 * eight accumulators (f32x4.mul then f32x4.add, or f32x4.relaxed_madd with `fma`). A (4 KB) and B
 * (8 KB) stay in L1, and there is no packing or driver, so this is the most the kernel's
 * instruction mix can run at on this machine; next to the ceiling, it says how much of the gap
 * is the mix itself (six loads and, in the exact tier, a separate multiply per product).
 */
export function tileModule(fma = false) {
  const ITER = 0, PA = 1, PB = 2, K = 3;
  const acc = (i) => 4 + i;
  const B = [12, 13];
  const A = 14;
  const memarg = (offset) => [4, ...uleb(offset)];
  const body = [];
  for (let i = 0; i < 8; i++) body.push(...f32x4Const(0.1 + 0.01 * i), 0x21, acc(i));
  body.push(0x03, 0x40); // loop: one block of 256 depth steps
  body.push(0x41, 0, 0x21, PA, 0x41, ...uleb(4096), 0x21, PB, 0x41, ...uleb(256), 0x21, K);
  body.push(0x03, 0x40); // loop: one depth step
  for (let j = 0; j < 2; j++) body.push(0x20, PB, 0xfd, 0x00, ...memarg(16 * j), 0x21, B[j]); // v128.load
  for (let r = 0; r < 4; r++) {
    body.push(0x20, PA, 0xfd, 0x09, 2, ...uleb(4 * r), 0x21, A); // v128.load32_splat
    for (let j = 0; j < 2; j++) {
      const a = acc(2 * r + j);
      if (fma) body.push(0x20, A, 0x20, B[j], 0x20, a, 0xfd, ...uleb(261), 0x21, a);
      else body.push(0x20, a, 0x20, A, 0x20, B[j], 0xfd, ...uleb(230), 0xfd, ...uleb(228), 0x21, a);
    }
  }
  body.push(0x20, PA, 0x41, 16, 0x6a, 0x21, PA, 0x20, PB, 0x41, 32, 0x6a, 0x21, PB); // pa += 16; pb += 32
  body.push(0x20, K, 0x41, 1, 0x6b, 0x22, K, 0x0d, 0, 0x0b); // k -= 1; br_if; end
  body.push(0x20, ITER, 0x41, 1, 0x6b, 0x22, ITER, 0x0d, 0, 0x0b); // blocks -= 1; br_if; end
  body.push(0x20, acc(0));
  for (let i = 1; i < 8; i++) body.push(0x20, acc(i), 0xfd, ...uleb(228));
  body.push(0xfd, 0x1f, 0, 0x0b);
  const locals = [2, 3, 0x7f, 11, 0x7b]; // pa, pb, k: i32; 8 accumulators, 2 B rows, 1 A splat: v128
  return runModule([...locals, ...body], { memory: true });
}

/** GFLOP/s of the micro-kernel's loop alone (tileModule), the best of `reps` runs. */
export async function measureTileLoop({ blocks = 40_000, reps = 5, fma = false } = {}) {
  const { instance } = await WebAssembly.instantiate(tileModule(fma));
  const run = instance.exports.run;
  run(200);
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const sink = run(blocks);
    best = Math.min(best, performance.now() - t0);
    if (!Number.isFinite(sink)) throw new Error('micro-kernel loop diverged');
  }
  return { gflops: (blocks * 256 * 64) / best / 1e6 };
}

/** Best GFLOP/s over accumulator counts 4..14, each timed as the best of `reps` runs. */
export async function measureCeiling({ iterations = 20_000_000, reps = 5, fma = false } = {}) {
  const perChains = [];
  for (let chains = 4; chains <= 14; chains += 1) {
    const { instance } = await WebAssembly.instantiate(ceilingModule(chains, fma));
    const run = instance.exports.run;
    run(100_000);
    let best = Infinity;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      const sink = run(iterations / chains * 4);
      best = Math.min(best, performance.now() - t0);
      if (!Number.isFinite(sink)) throw new Error('ceiling kernel diverged');
    }
    const flops = (iterations / chains * 4) * chains * 8;
    perChains.push({ chains, gflops: flops / best / 1e6 });
  }
  const best = perChains.reduce((a, b) => (b.gflops > a.gflops ? b : a));
  return { gflops: best.gflops, chains: best.chains, perChains };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // node bench/ceiling.mjs [--fma] (Node 20 needs --experimental-wasm-relaxed-simd for --fma)
  const fma = process.argv.includes('--fma');
  const r = await measureCeiling({ fma });
  for (const p of r.perChains) console.log(`${String(p.chains).padStart(2)} chains: ${p.gflops.toFixed(1)} GFLOP/s`);
  console.log(`${fma ? 'relaxed_madd ' : ''}ceiling: ${r.gflops.toFixed(1)} GFLOP/s with ${r.chains} chains`);
  console.log(`the ${fma ? 'fast' : 'exact'} tier's 4 × 8 micro-kernel loop alone (operands in L1): ${(await measureTileLoop({ fma })).gflops.toFixed(1)} GFLOP/s`);
}
