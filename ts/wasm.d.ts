// tsup embeds the built module with esbuild's binary loader.
declare module '*.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}
