// tsup embeds the built module deflated (raw DEFLATE), then base64, with its length in bytes and
// the Adler-32 of the deflated bytes (see tsup.config.ts); ts/runtime/wasm.ts's embeddedModule unpacks it.
declare module '*.wasm' {
  const embedded: { length: number; adler32: number; deflated: string };
  export default embedded;
}

// The inflater the browsers unpack it with (a CommonJS package without declarations of its own):
// fills `dest`, allocated to the inflated length, and returns it (a shorter view where the data ends early).
declare module 'tiny-inflate' {
  export default function inflate(source: Uint8Array, dest: Uint8Array): Uint8Array;
}

// tsup bundles a worker's TypeScript into one script and embeds its text (see tsup.config.ts).
declare module '*?worker-source' {
  const source: string;
  export default source;
}
