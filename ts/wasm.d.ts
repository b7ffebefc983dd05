// tsup embeds the built module as a base64 string (esbuild's base64 loader).
declare module '*.wasm' {
  const base64: string;
  export default base64;
}
