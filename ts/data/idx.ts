import { LatentkitError } from '../errors.js';

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxTensor {
  dtype: 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
  shape: number[];
  data: IdxData;
}

const TYPES: Record<number, { dtype: IdxTensor['dtype']; size: number }> = {
  0x08: { dtype: 'uint8', size: 1 },
  0x09: { dtype: 'int8', size: 1 },
  0x0b: { dtype: 'int16', size: 2 },
  0x0c: { dtype: 'int32', size: 4 },
  0x0d: { dtype: 'float32', size: 4 },
  0x0e: { dtype: 'float64', size: 8 },
};

/**
 * Parses an IDX file (MNIST's format): magic 0x0000 + type byte + rank byte,
 * then `rank` big-endian u32 dimensions, then the big-endian data. The data
 * length is checked against the header before anything is allocated.
 */
export function readIdx(bytes: Uint8Array, name = 'IDX file'): IdxTensor {
  if (!(bytes instanceof Uint8Array)) throw new LatentkitError(`${name}: expected the file's bytes as a Uint8Array`);
  if (bytes.length < 4) throw new LatentkitError(`${name}: ${bytes.length} bytes is too short for an IDX header (4 bytes)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join('');
    throw new LatentkitError(`${name}: bad magic number 0x${magic}; an IDX file starts with 0x0000 then a type and a rank byte`);
  }
  const type = TYPES[bytes[2]!];
  if (!type) throw new LatentkitError(`${name}: unknown IDX data type 0x${bytes[2]!.toString(16)}; expected 08, 09, 0b, 0c, 0d or 0e`);
  const rank = bytes[3]!;
  if (rank === 0) throw new LatentkitError(`${name}: rank 0 is not a tensor`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) throw new LatentkitError(`${name}: truncated header: rank ${rank} needs ${headerBytes} bytes, the file has ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
  }
  const need = headerBytes + count * type.size;
  if (bytes.length < need) {
    throw new LatentkitError(`${name}: truncated: shape [${shape.join(', ')}] of ${type.dtype} needs ${need} bytes, the file has ${bytes.length}`);
  }
  if (bytes.length > need) {
    throw new LatentkitError(`${name}: ${bytes.length - need} unexpected bytes after the data of shape [${shape.join(', ')}]`);
  }
  let data: IdxData;
  const at = headerBytes;
  switch (type.dtype) {
    case 'uint8':
      data = bytes.slice(at, need);
      break;
    case 'int8':
      data = new Int8Array(bytes.slice(at, need).buffer);
      break;
    default: {
      const Ctor = { int16: Int16Array, int32: Int32Array, float32: Float32Array, float64: Float64Array }[type.dtype];
      const out = new Ctor(count);
      const get = {
        int16: (o: number) => view.getInt16(o, false),
        int32: (o: number) => view.getInt32(o, false),
        float32: (o: number) => view.getFloat32(o, false),
        float64: (o: number) => view.getFloat64(o, false),
      }[type.dtype];
      for (let i = 0; i < count; i++) out[i] = get(at + i * type.size);
      data = out;
    }
  }
  return { dtype: type.dtype, shape, data };
}

/** Images as a [count, rows·cols] Float32 matrix scaled by `scale` (default 1/255 → [0, 1]). */
export function idxImages(t: IdxTensor, scale = 1 / 255): { data: Float32Array; shape: [number, number] } {
  if (t.shape.length < 2) throw new LatentkitError(`expected images of rank ≥ 2, got shape [${t.shape.join(', ')}]`);
  const count = t.shape[0]!;
  const width = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const data = new Float32Array(count * width);
  for (let i = 0; i < data.length; i++) data[i] = t.data[i]! * scale;
  return { data, shape: [count, width] };
}
