// tsup embeds the built module as a base64 string (esbuild's base64 loader).
declare module '*.wasm' {
  const base64: string;
  export default base64;
}

// tsup bundles a worker's TypeScript into one script and embeds its text (see tsup.config.ts).
declare module '*?worker-source' {
  const source: string;
  export default source;
}
