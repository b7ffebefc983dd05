// The one built module, rewritten to share its memory between threads.
//
// The kernels need no atomics: each thread runs them over its own column range with its own
// packing space, and JavaScript's Atomics on a separate control block order the threads. So
// instead of a second build with +atomics (which Debian's precompiled std cannot link), the
// module's own memory becomes an imported shared one:
// - main: imports `env.memory` (shared, maximum 4 GiB) in place of defining its memory; its
//   active data segments initialise that memory once, when the main thread instantiates it.
// - worker: the same, with the data segments made passive (a worker must not re-initialise
//   memory the main thread is using) and the stack pointer exported, so each worker can be
//   given a stack of its own.

const SECTION = { import: 2, memory: 5, global: 6, export: 7, data: 11 } as const;
const MAX_PAGES = 65536;

function leb(bytes: Uint8Array, at: number): [number, number] {
  let v = 0;
  let shift = 0;
  let b: number;
  do {
    b = bytes[at++]!;
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return [v, at];
}

function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return out;
}

const name = (s: string) => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

interface Section {
  id: number;
  body: Uint8Array;
}

function sections(bytes: Uint8Array): Section[] {
  const out: Section[] = [];
  let i = 8;
  while (i < bytes.length) {
    const id = bytes[i]!;
    const [size, start] = leb(bytes, i + 1);
    out.push({ id, body: bytes.subarray(start, start + size) });
    i = start + size;
  }
  return out;
}

function assemble(header: Uint8Array, list: Section[]): Uint8Array<ArrayBuffer> {
  const parts: number[][] = [];
  let total = header.length;
  for (const s of list) {
    const head = [s.id, ...uleb(s.body.length)];
    parts.push(head);
    total += head.length + s.body.length;
  }
  const out = new Uint8Array(total);
  out.set(header);
  let p = header.length;
  list.forEach((s, i) => {
    out.set(parts[i]!, p);
    p += parts[i]!.length;
    out.set(s.body, p);
    p += s.body.length;
  });
  return out;
}

/** Index of the one mutable i32 global (the stack pointer wasm-ld places first). */
function stackPointerGlobal(body: Uint8Array): number {
  let [count, p] = leb(body, 0);
  const mutable: number[] = [];
  for (let g = 0; g < count; g++) {
    const type = body[p]!;
    const mut = body[p + 1]!;
    p += 2;
    if (type === 0x7f && mut === 1) mutable.push(g);
    while (body[p] !== 0x0b) p++; // constant init expression: i32.const …
    p++;
  }
  if (mutable.length !== 1) throw new Error(`latentkit: expected one mutable i32 global (the stack pointer), found ${mutable.length}`);
  return mutable[0]!;
}

/** The parts, one after another. */
function concat(parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The data section with every active segment (flag 0: memory 0 at a constant offset) made passive. */
function passiveData(body: Uint8Array): Uint8Array {
  let [count, p] = leb(body, 0);
  const parts: ArrayLike<number>[] = [uleb(count)];
  for (let s = 0; s < count; s++) {
    const flag = body[p]!;
    if (flag !== 0) throw new Error(`latentkit: unexpected data segment kind ${flag}`);
    p++;
    while (body[p] !== 0x0b) p++;
    p++;
    const [len, start] = leb(body, p);
    parts.push([1, ...uleb(len)], body.subarray(start, start + len));
    p = start + len;
  }
  return concat(parts);
}

export interface SharedModules {
  main: Uint8Array<ArrayBuffer>;
  /** Built on first use: a process that never starts a thread does not pay for it at import. */
  worker(): Uint8Array<ArrayBuffer>;
  /** The module's own minimum memory size, in 64 KiB pages. */
  initialPages: number;
  maximumPages: number;
}

/** The main and worker variants of `bytes`, both importing one shared `env.memory`. */
export function sharedModules(bytes: Uint8Array): SharedModules {
  const header = bytes.subarray(0, 8);
  const list = sections(bytes);
  const memory = list.find((s) => s.id === SECTION.memory);
  if (!memory || list.some((s) => s.id === SECTION.import)) throw new Error('latentkit: the module must define one memory and import nothing');
  const [, p] = leb(memory.body, 0); // count (1)
  const flags = memory.body[p]!;
  const [initialPages] = leb(memory.body, p + 1);
  if (flags & 0x02) throw new Error('latentkit: the module memory is already shared');
  const importBody = Uint8Array.from([
    1, ...name('env'), ...name('memory'), 0x02, 0x03, ...uleb(initialPages), ...uleb(MAX_PAGES),
  ]);
  const importSection: Section = { id: SECTION.import, body: importBody };
  // Imports come after the type section (id 1), before functions (id 3).
  const withImport = (l: Section[]) => {
    const at = l.findIndex((s) => s.id !== 1 && s.id !== 0);
    return [...l.slice(0, at), importSection, ...l.slice(at)];
  };
  const main = withImport(list.filter((s) => s !== memory));
  const sp = stackPointerGlobal(list.find((s) => s.id === SECTION.global)!.body);
  let worker: Uint8Array<ArrayBuffer> | null = null;
  const buildWorker = () =>
    assemble(header, main.map((s) => {
      if (s.id === SECTION.data) return { id: s.id, body: passiveData(s.body) };
      if (s.id === SECTION.export) {
        const [count, q] = leb(s.body, 0);
        return { id: s.id, body: concat([uleb(count + 1), s.body.subarray(q), [...name('__stack_pointer'), 0x03, ...uleb(sp)]]) };
      }
      return s;
    }));
  return { main: assemble(header, main), worker: () => (worker ??= buildWorker()), initialPages, maximumPages: MAX_PAGES };
}
