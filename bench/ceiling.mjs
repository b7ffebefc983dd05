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
  const func = [...locals, ...body];
  const code = [1, ...uleb(func.length), ...func];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]),
    ...section(3, [1, 0]),
    ...section(7, [1, 3, ...[...'run'].map((c) => c.charCodeAt(0)), 0, 0]),
    ...section(10, code),
  ]);
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
}
