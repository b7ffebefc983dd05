import { LatentkitError } from '../errors.js';

/**
 * One tensor: float32, or (`int`) int64 held as floats — PyTorch's counters such as
 * BatchNorm's `num_batches_tracked`, which are exact up to 2^24 here.
 */
export interface Tensor {
  shape: number[];
  data: Float32Array;
  int?: boolean;
}

const MAX_EXACT_INT = 2 ** 24;

const MAX_HEADER_BYTES = 16 * 1024 * 1024;

/**
 * Writes the safetensors format: 8-byte little-endian header length, a JSON
 * header (dtype, shape, data_offsets per tensor, string metadata under
 * `__metadata__`), padded with spaces to 8 bytes, then little-endian f32 data.
 */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name]!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new LatentkitError(`tensor ${name}: shape [${t.shape}] needs ${count} values, has ${t.data.length}`);
    const width = t.int ? 8 : 4;
    header[name] = { dtype: t.int ? 'I64' : 'F32', shape: t.shape, data_offsets: [offset, offset + width * count] };
    offset += width * count;
  }
  let json = JSON.stringify(header);
  while ((8 + utf8Length(json)) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerBytes.length, true);
  dv.setUint32(4, 0, true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.length;
  for (const name of names) {
    const { data: d, int } = tensors[name]!;
    if (int) for (let i = 0; i < d.length; i++, p += 8) dv.setBigInt64(p, BigInt(d[i]!), true);
    else for (let i = 0; i < d.length; i++, p += 4) dv.setFloat32(p, d[i]!, true);
  }
  return out;
}

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/**
 * Reads a safetensors file strictly: every size is checked against the bytes
 * actually present before anything is allocated, offsets must tile the data
 * exactly, names must be unique, and only F32 tensors (and I64 counters up to 2^24) are accepted.
 */
export function decodeSafetensors(bytes: Uint8Array): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  if (!(bytes instanceof Uint8Array)) throw new LatentkitError('expected the file contents as a Uint8Array');
  if (bytes.length < 8) throw new LatentkitError(`not a safetensors file: ${bytes.length} bytes, the header length alone takes 8`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  if (hi !== 0 || lo > bytes.length - 8) {
    throw new LatentkitError(`corrupt safetensors file: header length ${hi * 2 ** 32 + lo} is larger than the ${bytes.length - 8} bytes after it`);
  }
  if (lo > MAX_HEADER_BYTES) throw new LatentkitError(`safetensors header of ${lo} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + lo));
  } catch {
    throw new LatentkitError('corrupt safetensors header: not valid UTF-8');
  }
  const keys = topLevelKeys(text);
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k)) throw new LatentkitError(`corrupt safetensors header: tensor "${k}" appears twice`);
    seen.add(k);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new LatentkitError(`corrupt safetensors header: ${(e as Error).message}`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new LatentkitError('corrupt safetensors header: not a JSON object');
  const dataStart = 8 + lo;
  const dataBytes = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: [string, number[], number, number, boolean][] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw new LatentkitError('corrupt safetensors header: __metadata__ is not an object');
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw new LatentkitError(`corrupt safetensors header: metadata "${k}" is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!e || typeof e !== 'object') throw new LatentkitError(`corrupt safetensors header: tensor "${name}" is not an object`);
    if (e.dtype !== 'F32' && e.dtype !== 'I64') throw new LatentkitError(`tensor "${name}" has dtype ${JSON.stringify(e.dtype)}; latentkit reads F32 (and I64 counters) only`);
    const width = e.dtype === 'I64' ? 8 : 4;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new LatentkitError(`tensor "${name}" has an invalid shape ${JSON.stringify(e.shape)}`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) {
      throw new LatentkitError(`tensor "${name}" has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const count = (e.shape as number[]).reduce((a, b) => a * b, 1);
    if (off[1] > dataBytes) throw new LatentkitError(`tensor "${name}" ends at byte ${off[1]} but the file holds ${dataBytes} bytes of data (truncated?)`);
    if (off[1] - off[0] !== width * count) {
      throw new LatentkitError(`tensor "${name}": shape [${e.shape}] needs ${width * count} bytes but its offsets span ${off[1] - off[0]}`);
    }
    entries.push([name, e.shape as number[], off[0], off[1], width === 8]);
  }
  // The tensors must tile the data region exactly, with no gaps or overlaps.
  const sorted = [...entries].sort((a, b) => a[2] - b[2] || a[3] - b[3]);
  let pos = 0;
  for (const [name, , b, end] of sorted) {
    if (b !== pos) throw new LatentkitError(`tensor "${name}" starts at byte ${b}, expected ${pos}: overlapping or missing data`);
    pos = end;
  }
  if (pos !== dataBytes) throw new LatentkitError(`the tensors cover ${pos} bytes but the file holds ${dataBytes} bytes of data`);
  const tensors: Record<string, Tensor> = {};
  for (const [name, shape, b, end, int] of entries) {
    if (int) {
      const data = new Float32Array((end - b) / 8);
      for (let i = 0; i < data.length; i++) {
        const v = dv.getBigInt64(dataStart + b + 8 * i, true);
        if (v < 0n || v > BigInt(MAX_EXACT_INT)) throw new LatentkitError(`tensor "${name}" holds the count ${v}, outside the 0…2^24 latentkit keeps exactly`);
        data[i] = Number(v);
      }
      tensors[name] = { shape, data, int: true };
      continue;
    }
    const data = new Float32Array((end - b) / 4);
    for (let i = 0; i < data.length; i++) data[i] = dv.getFloat32(dataStart + b + 4 * i, true);
    tensors[name] = { shape, data };
  }
  return { tensors, metadata };
}

/** Keys of the outermost JSON object, in order and with repeats (JSON.parse keeps only the last). */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let i = 0;
  let expectKey = false;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        try {
          keys.push(JSON.parse(text.slice(i, j + 1)) as string);
        } catch {
          // malformed: JSON.parse of the whole header reports it
        }
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === '{' || c === '[') {
      depth++;
      if (depth === 1 && c === '{') expectKey = true;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
    i++;
  }
  return keys;
}
