// Adler-32 (RFC 1950), the checksum zlib streams end with. The embedded WebAssembly modules carry
// one of their deflated bytes, checked before tiny-inflate reads them: that inflater has no bounds
// checks, and a damaged stream can send it past its input's end into a loop that never ends.

/** The Adler-32 of `bytes`, an unsigned 32-bit integer. */
export function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  // 5,552 bytes is the longest run whose sums cannot pass 2^53 before the modulo (zlib's NMAX).
  for (let at = 0; at < bytes.length; at += 5552) {
    const end = Math.min(bytes.length, at + 5552);
    for (let i = at; i < end; i++) {
      a += bytes[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return (b * 65536 + a) >>> 0;
}
