// A user's program: imports the installed package by name, as `npm install latentkit` gives it.
// Node and Deno run this file; the browser bundle is built from browser.mjs, which shares train().
import { train } from './train.mjs';

const result = await train();
// The optional entries import too (Node and Deno have the file system they need).
const node = await import('latentkit/node');
const jpeg = await import('latentkit/jpeg');
const png = await import('latentkit/png');
const onnx = await import('latentkit/onnx');
result.entries = [typeof node.writeFileAtomic, typeof jpeg.decodeJpegGray, typeof png.decodePngGray, typeof onnx.toOnnx];
console.log(JSON.stringify(result));
