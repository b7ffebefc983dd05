// The kernel declarations (ts/runtime/kernels.ts) against the built module and the Rust
// sources: every export declared once with its WebAssembly signature, every enum code equal on
// both sides, no export name restated anywhere else in ts/, the trace, and traps on bad codes.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as internal from '../dist/internal.js';

const root = new URL('..', import.meta.url).pathname;

/** Each function export's parameter and result types, read from the module's sections. */
function exportSignatures(bytes: Uint8Array): Map<string, { params: string[]; results: string[] }> {
  let at = 8;
  const byte = () => bytes[at++]!;
  const uleb = () => {
    let r = 0;
    let shift = 0;
    for (;;) {
      const b = byte();
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return r;
    }
  };
  const name = () => {
    const n = uleb();
    const s = new TextDecoder().decode(bytes.subarray(at, at + n));
    at += n;
    return s;
  };
  const valType = (b: number) => ({ 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128' })[b] ?? `0x${b.toString(16)}`;
  const types: { params: string[]; results: string[] }[] = [];
  const funcs: number[] = [];
  let importedFuncs = 0;
  const out = new Map<string, { params: string[]; results: string[] }>();
  while (at < bytes.length) {
    const id = byte();
    const size = uleb();
    const end = at + size;
    if (id === 1) {
      for (let n = uleb(); n > 0; n--) {
        byte(); // 0x60
        const params = Array.from({ length: uleb() }, () => valType(byte()));
        const results = Array.from({ length: uleb() }, () => valType(byte()));
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = uleb(); n > 0; n--) {
        name();
        name();
        const kind = byte();
        if (kind === 0) {
          uleb();
          importedFuncs++;
        } else if (kind === 2) {
          const flags = byte();
          uleb();
          if (flags & 1) uleb();
        } else if (kind === 3) {
          byte();
          byte();
        } else {
          byte();
          const flags = byte();
          uleb();
          if (flags & 1) uleb();
        }
      }
    } else if (id === 3) {
      for (let n = uleb(); n > 0; n--) funcs.push(uleb());
    } else if (id === 7) {
      for (let n = uleb(); n > 0; n--) {
        const exportName = name();
        const kind = byte();
        const index = uleb();
        if (kind === 0) out.set(exportName, types[funcs[index - importedFuncs]!]!);
      }
    }
    at = end;
  }
  return out;
}

const wasmType = { ptr: 'i32', usize: 'i32', u32: 'i32', i32: 'i32', f32: 'f32', f64: 'f64' } as const;

describe('kernel declarations', () => {
  const bytes = new Uint8Array(readFileSync(join(root, 'wasm/latentkit.wasm')));
  const signatures = exportSignatures(bytes);

  it('the fast tier exports the same functions with the same signatures', () => {
    const fast = exportSignatures(new Uint8Array(readFileSync(join(root, 'wasm/latentkit-fast.wasm'))));
    expect(Object.fromEntries(fast)).toEqual(Object.fromEntries(signatures));
  });

  it('every declaration names an export with its WebAssembly signature, and every export is declared', () => {
    const declared = new Set<string>();
    for (const [name, d] of Object.entries(internal.KERNELS) as [string, { export: string; args: readonly string[]; returns?: string; split?: { kind: string } }][]) {
      const sig = signatures.get(d.export);
      expect(sig, `${name}: no export ${d.export}`).toBeDefined();
      const params = d.args.map((a) => wasmType[a.split(':')[1] as keyof typeof wasmType]);
      if (d.split?.kind === 'columns') params.push('i32', 'i32', 'i32', 'i32'); // the range, the packing space and how it packs A
      expect(sig!.params, `${name} (${d.export}) parameters`).toEqual(params);
      expect(sig!.results, `${name} (${d.export}) result`).toEqual(d.returns ? [wasmType[d.returns as keyof typeof wasmType]] : []);
      declared.add(d.export);
    }
    const undeclared = [...signatures.keys()].filter((n) => n.startsWith('lk_') && !declared.has(n));
    expect(undeclared, 'exports without a declaration').toEqual([]);
  });

  it('each lk_* export is named in exactly one TypeScript file', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.name.endsWith('.ts')) files.push(join(dir, e.name));
      }
    };
    walk(join(root, 'ts'));
    const texts = files.map((f) => [f, readFileSync(f, 'utf8')] as const);
    for (const name of signatures.keys()) {
      if (!name.startsWith('lk_')) continue;
      const where = texts.filter(([, t]) => new RegExp(`\\b${name}\\b`).test(t)).map(([f]) => f.slice(root.length));
      expect(where, name).toEqual(['ts/runtime/kernels.ts']);
    }
  });

  it('enum codes are the same in Rust and TypeScript', () => {
    const rust = (file: string, enumName: string) => {
      const src = readFileSync(join(root, 'crates/kernels/src', file), 'utf8');
      const body = new RegExp(`pub enum ${enumName} \\{([^}]*)\\}`).exec(src)?.[1];
      expect(body, `${enumName} in ${file}`).toBeDefined();
      return Object.fromEntries([...body!.matchAll(/(\w+) = (\d+),/g)].map((m) => [m[1]!.toLowerCase(), Number(m[2])]));
    };
    const ts = (table: Record<string, number>) => Object.fromEntries(Object.entries(table).map(([k, v]) => [k.replace(/-/g, ''), v]));
    expect(ts(internal.ACTIVATION)).toEqual(rust('activation.rs', 'Activation'));
    expect(ts(internal.LOSS)).toEqual(rust('loss.rs', 'Loss'));
    expect(ts(internal.INIT)).toEqual(rust('init.rs', 'Init'));
    expect(ts(internal.GEMM_LAYOUT)).toEqual(rust('gemm/mod.rs', 'Layout'));
    expect(ts(internal.PACK_A)).toEqual(rust('gemm/mod.rs', 'PackA'));
    expect(ts(internal.LIKELIHOOD)).toEqual(rust('gaussian.rs', 'Likelihood'));
  });

  it('an unknown code traps instead of computing something else', () => {
    const { kernels, heap } = internal;
    const y = heap.alloc(8, 'y');
    const a = heap.alloc(16, 'a');
    try {
      expect(() => kernels.activation_forward(99, 0, y.ptr, 8)).toThrow(/unreachable/);
      expect(() => kernels.loss(7, y.ptr, y.ptr, 0, 2, 4, a.ptr, 1)).toThrow(/unreachable/);
      expect(() => kernels.gemm(3, 2, 2, 2, a.ptr, a.ptr, y.ptr, 0)).toThrow(/unreachable/);
    } finally {
      heap.free(y);
      heap.free(a);
    }
  });

  it('LATENTKIT_DEBUG=1 prints every kernel call with its shapes, split and time', () => {
    const script = `import * as lk from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      lk.setThreads(2);
      const net = lk.mlp([8, 16], { loss: 'mse', optimizer: 'adam' });
      net.trainStep(new Float32Array(32 * 8), new Float32Array(32 * 16));
      const big = lk.mlp([512, 1024]);
      big.predict(new Float32Array(512 * 512));
      while (lk.threads().running < 2) await new Promise((r) => setTimeout(r, 10));
      big.predict(new Float32Array(512 * 512));
      const d = lk.stack([1, 28, 28], [lk.conv2d(64, { kernel: 4, stride: 2, padding: 1, activation: 'relu' }), lk.batchNorm(), lk.flatten(), lk.dense(1)]);
      const model = new lk.Sequential([d], { loss: 'mse' });
      model.trainStep(new Float32Array(64 * 784), new Float32Array(64));
      const g = lk.stack([8, 7, 7], [lk.convTranspose2d(4, { kernel: 4, stride: 2, padding: 1 })]);
      g.predict(new Float32Array(2 * 392));`;
    const r = spawnSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 110_000, env: { ...process.env, LATENTKIT_DEBUG: '1' } });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^latentkit: dense_forward 32×8 → 32×16 · 1 thread · \d+\.\d{3} ms$/));
    expect(lines).toContainEqual(expect.stringMatching(/^latentkit: loss kind 0 32×16 · \d+\.\d{3} ms$/));
    expect(lines).toContainEqual(expect.stringMatching(/^latentkit: adam 144 parameters, t 1 · 1 thread · \d+\.\d{3} ms$/));
    // Once the worker is up, the large layer is split.
    expect(lines).toContainEqual(expect.stringMatching(/^latentkit: dense_forward 512×512 → 512×1024 · \d+ parts over 2 threads · \d+\.\d{3} ms$/));
    // The layers beyond dense, with their shapes: a convolution is patch rows through the dense
    // kernels; a transposed convolution runs a convolution backwards.
    for (const line of [
      'im2row 64×1×28×28 → 12544×16 patches · \\d+ parts over 2 threads',
      'dense_forward 12544×16 → 12544×64 · \\d+ parts over 2 threads',
      'transpose 64×196×64 → 64×64×196 · \\d+ parts over 2 threads',
      'batch_norm_forward 64×64×196, batch statistics · \\d+ parts over 2 threads',
      'batch_norm_backward d64×64×196 · \\d+ parts over 2 threads',
      'dense_backward_params d12544×64 → dW 16×64 · \\d+ parts over 2 threads',
      'row2im 98×64 patches → 2×4×14×14, bias · 1 thread',
    ]) expect(lines, line).toContainEqual(expect.stringMatching(new RegExp(`^latentkit: ${line} · \\d+\\.\\d{3} ms$`)));
    const quiet = spawnSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 110_000, env: { ...process.env, LATENTKIT_DEBUG: '' } });
    expect(quiet.stderr).not.toMatch(/latentkit: dense_forward/);
  });
});
