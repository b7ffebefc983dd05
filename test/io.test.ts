import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Autoencoder, Classifier, GAN, LatentkitError, checkpoint, decodeSafetensors, encodeSafetensors, load, mlp, save } from '../dist/index.js';
import { loadFile, writeFileAtomic } from '../dist/node.js';
import { lcg, randomArray } from './helpers.js';

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('save and load', () => {
  it('round-trips a stack, an autoencoder (plain and tied), a GAN and a classifier with bit-identical predictions', () => {
    const x8 = randomArray(20 * 8, 1);
    const net = mlp([8, 12, 3], { activation: { type: 'leaky-relu', alpha: 0.2 }, outputActivation: 'tanh', seed: 1 });
    const net2 = load(save(net)) as typeof net;
    expect(bits(net2.predict(x8).data)).toEqual(bits(net.predict(x8).data));

    const enc = mlp([8, 4], { outputActivation: 'tanh', seed: 2 });
    const ae = new Autoencoder({ encoder: enc, tiedWeights: true, decoderActivation: 'tanh', denoising: { type: 'masking', rate: 0.2 }, seed: 3 });
    ae.fit(x8, { epochs: 2, batchSize: 5 });
    const ae2 = load(save(ae)) as Autoencoder;
    expect(ae2).toBeInstanceOf(Autoencoder);
    expect(ae2.decoder.tiedTo).toBe(ae2.encoder);
    expect(ae2.denoising).toEqual({ type: 'masking', rate: 0.2 });
    expect(bits(ae2.reconstruct(x8).data)).toEqual(bits(ae.reconstruct(x8).data));

    const G = mlp([3, 6, 8], { seed: 4 });
    const D = mlp([8, 6, 1], { seed: 5 });
    const gan = new GAN({ generator: G, discriminator: D, noise: { dim: 3, distribution: 'uniform' }, k: 2, batchSize: 4, labelSmoothing: 0.1 });
    const gan2 = load(save(gan)) as GAN;
    expect(gan2.k).toBe(2);
    expect(bits(gan2.sample(10, { seed: 1 }))).toEqual(bits(gan.sample(10, { seed: 1 })));

    const body = mlp([8, 5], { outputActivation: 'relu', seed: 6 });
    const head = mlp([5, 3], { seed: 7 });
    const clf = new Classifier({ body, head });
    const clf2 = load(save(clf)) as Classifier;
    expect(bits(clf2.logits(x8).data)).toEqual(bits(clf.logits(x8).data));
  });

  it('uses PyTorch nn.Linear layouts and the names of the idiomatic nn.Sequential', () => {
    const net = mlp([3, 2], { seed: 1 });
    const { tensors, metadata } = decodeSafetensors(save(net));
    expect(Object.keys(tensors).sort()).toEqual(['0.bias', '0.weight']);
    expect(tensors['0.weight']!.shape).toEqual([2, 3]);
    const w = net.layerParameters(0).weight; // [in, out]
    expect(tensors['0.weight']!.data[1 * 3 + 2]).toBe(w[2 * 2 + 1]);
    expect([metadata.format, metadata.version]).toEqual(['latentkit', '2']);
    // Linear, Tanh, Linear, Sigmoid: the Linears are modules 0 and 2 of nn.Sequential.
    const names = (m: Parameters<typeof save>[0]) => Object.keys(decodeSafetensors(save(m)).tensors).sort();
    expect(names(mlp([4, 3, 2], { activation: 'tanh', outputActivation: 'sigmoid' }))).toEqual(['0.bias', '0.weight', '2.bias', '2.weight']);
    // Linear, LeakyReLU, Dropout, Linear, LeakyReLU, Dropout, Linear (linear output: no module).
    expect(names(mlp([4, 3, 3, 1], { activation: { type: 'leaky-relu', alpha: 0.2 }, dropout: 0.3 }))).toEqual(['0.bias', '0.weight', '3.bias', '3.weight', '6.bias', '6.weight']);
    const ae = new Autoencoder({ encoder: mlp([4, 3, 2], { activation: 'tanh' }), decoder: mlp([2, 4], { outputActivation: 'sigmoid' }) });
    expect(names(ae)).toEqual(['decoder.0.bias', 'decoder.0.weight', 'encoder.0.bias', 'encoder.0.weight', 'encoder.2.bias', 'encoder.2.weight']);
  });

  it('still reads version 1 files (layers numbered 0, 1, 2 under the module name)', () => {
    const net = mlp([3, 4, 2], { activation: 'relu', outputActivation: 'tanh', seed: 5 });
    const { tensors, metadata } = decodeSafetensors(save(net));
    const v1 = { 'layers.0.weight': tensors['0.weight']!, 'layers.0.bias': tensors['0.bias']!, 'layers.1.weight': tensors['2.weight']!, 'layers.1.bias': tensors['2.bias']! };
    const back = load(encodeSafetensors(v1, { ...metadata, version: '1' })) as typeof net;
    expect(bits(back.getWeights())).toEqual(bits(net.getWeights()));
    // A version 2 name in a version 1 file is not silently accepted.
    expect(() => load(encodeSafetensors(tensors, { ...metadata, version: '1' }))).toThrow(/missing tensor layers.0.weight/);
  });

  it('resumes an autoencoder and a GAN bit-identically from a checkpoint', () => {
    const x = randomArray(64 * 6, 2);
    const makeAe = () => new Autoencoder({ encoder: mlp([6, 3], { outputActivation: 'tanh', seed: 1 }), decoder: mlp([3, 6], { seed: 2 }), denoising: { type: 'gaussian', std: 0.1 }, seed: 3, optimizer: 'adamw' });
    const a = makeAe();
    a.fit(x, { epochs: 4, batchSize: 16 });
    const b = makeAe();
    b.fit(x, { epochs: 2, batchSize: 16 });
    const c = load(checkpoint(b)) as Autoencoder;
    c.fit(x, { epochs: 2, batchSize: 16 });
    expect(bits(c.encoder.getWeights())).toEqual(bits(a.encoder.getWeights()));
    expect(bits(c.decoder.getWeights())).toEqual(bits(a.decoder.getWeights()));

    const real = randomArray(100 * 4, 3);
    const makeGan = () => new GAN({ generator: mlp([2, 8, 4], { seed: 1 }), discriminator: mlp([4, 8, 1], { seed: 2, dropout: 0.3 }), noise: { dim: 2 }, k: 2, batchSize: 16, seed: 4 });
    const g1 = makeGan();
    g1.fit(real, { iterations: 20 });
    const g2 = makeGan();
    g2.fit(real, { iterations: 7 });
    const g3 = load(checkpoint(g2)) as GAN;
    g3.fit(real, { iterations: 13 });
    expect(g3.iterations).toBe(20);
    expect(g3.discriminator.dropout).toBe(0.3);
    expect(bits(g3.generator.getWeights())).toEqual(bits(g1.generator.getWeights()));
    expect(bits(g3.discriminator.getWeights())).toEqual(bits(g1.discriminator.getWeights()));
  });

  it('saves, loads and resumes a GAN with a generator average bit-identically', () => {
    const real = randomArray(100 * 4, 5);
    const makeGan = () => new GAN({ generator: mlp([2, 8, 4], { seed: 1 }), discriminator: mlp([4, 8, 1], { seed: 2 }), noise: { dim: 2 }, batchSize: 16, seed: 4, ema: { decay: 0.95 } });
    const g1 = makeGan();
    g1.fit(real, { iterations: 20 });
    const saved = load(save(g1)) as GAN;
    expect(saved.emaDecay).toBe(0.95);
    expect(bits(saved.generatorEma!.getWeights())).toEqual(bits(g1.generatorEma!.getWeights()));
    expect(bits(saved.sample(10, { seed: 3 }))).toEqual(bits(g1.sample(10, { seed: 3 })));
    expect(Object.keys(decodeSafetensors(save(g1)).tensors).filter((k) => k.startsWith('generatorEma.')).sort()).toEqual(['generatorEma.0.bias', 'generatorEma.0.weight', 'generatorEma.2.bias', 'generatorEma.2.weight']);
    const g2 = makeGan();
    g2.fit(real, { iterations: 8 });
    const g3 = load(checkpoint(g2)) as GAN;
    g3.fit(real, { iterations: 12 });
    expect(bits(g3.generatorEma!.getWeights())).toEqual(bits(g1.generatorEma!.getWeights()));
    expect(bits(g3.generator.getWeights())).toEqual(bits(g1.generator.getWeights()));
    // A GAN file whose average is missing is named as corrupt.
    const { tensors, metadata } = decodeSafetensors(save(g1));
    for (const k of Object.keys(tensors)) if (k.startsWith('generatorEma.')) delete tensors[k];
    const arch = JSON.parse(metadata.architecture!);
    delete arch.modules.generatorEma;
    expect(() => load(encodeSafetensors(tensors, { ...metadata, architecture: JSON.stringify(arch) }))).toThrow(/a GAN with ema needs module generatorEma/);
  });

  it('names the problem in bad files, and never throws anything else on 1,000 mutated files', () => {
    const ae = new Autoencoder({ encoder: mlp([4, 2], { seed: 1 }), decoder: mlp([2, 4], { seed: 2 }) });
    const good = checkpoint(ae);
    const expectBad = (bytes: Uint8Array, pattern: RegExp) => {
      expect(() => load(bytes)).toThrow(LatentkitError);
      expect(() => load(bytes)).toThrow(pattern);
    };
    expectBad(good.subarray(0, good.length - 3), /truncated|cover/);
    expectBad(good.subarray(0, 5), /header length alone/);
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(0, 0xfffffff0, true);
    expectBad(huge, /header length \d+ is larger than/);
    const wrongType = encodeSafetensors({ '0.weight': { shape: [1], data: new Float32Array(1) } });
    const f16 = new TextDecoder('latin1').decode(wrongType).indexOf('"F32"');
    wrongType.set([...'"F16"'].map((c) => c.charCodeAt(0)), f16);
    expectBad(wrongType, /dtype "F16"/);
    const meta = decodeSafetensors(good).metadata;
    const t = decodeSafetensors(good).tensors;
    expectBad(encodeSafetensors(t, { ...meta, version: '99' }), /unsupported latentkit model version "99" \(this library reads versions 1 and 2\)/);
    const missing = { ...t };
    delete missing['encoder.0.weight'];
    expectBad(encodeSafetensors(missing, meta), /missing tensor encoder.0.weight/);
    expectBad(encodeSafetensors({ ...t, 'encoder.0.weight': { shape: [3, 4], data: new Float32Array(12) } }, meta), /encoder.0.weight has shape \[3,4\], the architecture needs \[2, 4\]/);
    expectBad(encodeSafetensors({ ...t, extra: { shape: [1], data: new Float32Array(1) } }, meta), /unexpected tensor extra/);
    const arch = JSON.parse(meta.architecture!);
    arch.modules.decoder.sizes = [2, 5];
    expectBad(encodeSafetensors(t, { ...meta, architecture: JSON.stringify(arch) }), /decoder/);
    // Duplicate names are invisible to JSON.parse; the reader catches them.
    const dup = encodeSafetensors({ a: { shape: [1], data: new Float32Array(1) }, b: { shape: [1], data: new Float32Array(1) } });
    const at = new TextDecoder('latin1').decode(dup).indexOf('"b":');
    dup[at + 1] = 'a'.charCodeAt(0); // rename tensor b to a, byte for byte
    expectBad(dup, /"a" appears twice/);

    const r = lcg(11);
    let rejected = 0;
    for (let i = 0; i < 1000; i++) {
      const m = good.slice();
      const kind = i % 4;
      let bytes: Uint8Array = m;
      if (kind === 0) bytes = m.subarray(0, Math.floor(r() * m.length));
      else if (kind === 1) for (let f = 0; f < 1 + Math.floor(r() * 4); f++) m[Math.floor(r() * m.length)]! ^= 1 << Math.floor(r() * 8);
      else if (kind === 2) m[8 + Math.floor(r() * (m.length - 8))] = Math.floor(r() * 256);
      else new DataView(m.buffer).setUint32(0, Math.floor(r() * 2 ** 32), true);
      try {
        load(bytes);
      } catch (e) {
        if (!(e instanceof LatentkitError)) throw new Error(`mutant ${i} (kind ${kind}) threw ${String(e)}`);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(700);
  });

  it('model kinds register themselves: the file code names no model, and a non-model gets the list of kinds', () => {
    const src = readFileSync(join(process.cwd(), 'ts/io/model.ts'), 'utf8');
    expect(src).not.toMatch(/instanceof|\b(Autoencoder|GAN|Classifier)\b|'(autoencoder|gan|classifier)'/);
    expect(() => save({} as never)).toThrow(/save: expected a model of a known kind \(stack, autoencoder, gan, classifier, vae, semi-supervised-gan, semi-supervised-vae\)/);
    const unknown = decodeSafetensors(save(mlp([2, 3], { seed: 1 })));
    const arch = JSON.parse(unknown.metadata.architecture!);
    expect(() => load(encodeSafetensors(unknown.tensors, { ...unknown.metadata, architecture: JSON.stringify({ ...arch, kind: 'flow' }) }))).toThrow(/unknown latentkit model kind "flow"/);
  });

  it('writes files atomically and loads them back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lk-'));
    const path = join(dir, 'model.safetensors');
    const net = mlp([4, 2], { seed: 1 });
    writeFileAtomic(path, net);
    const back = loadFile(path) as typeof net;
    expect(back.getWeights()).toEqual(net.getWeights());
    writeFileSync(join(dir, 'bad.safetensors'), new Uint8Array([1, 2, 3]));
    expect(() => loadFile(join(dir, 'bad.safetensors'))).toThrow(/bad.safetensors: not a safetensors file/);
    expect(() => loadFile(join(dir, 'none.safetensors'))).toThrow(/cannot read/);
  });

  it('opens with the Python safetensors package and numpy reproduces predict to 1e-5', () => {
    const py = ['.venv/bin/python', 'bench/.venv/bin/python'].map((p) => join(process.cwd(), p)).find((p) => existsSync(p) && spawnSync(p, ['-c', 'import safetensors, numpy']).status === 0);
    expect(py, 'a Python with safetensors and numpy: .ci/run creates .venv with them').toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'lk-py-'));
    const net = mlp([6, 10, 4], { activation: 'tanh', outputActivation: 'sigmoid', seed: 3 });
    const x = randomArray(7 * 6, 4);
    writeFileSync(join(dir, 'm.safetensors'), save(net));
    writeFileSync(join(dir, 'x.f32'), x);
    writeFileSync(join(dir, 'y.f32'), net.predict(x).data);
    const out = execFileSync(py!, ['scripts/check-safetensors.py', join(dir, 'm.safetensors'), join(dir, 'x.f32'), join(dir, 'y.f32')], { encoding: 'utf8' });
    expect(out).toMatch(/max abs difference [0-9.e-]+ <= 1e-05/);
  });
});
