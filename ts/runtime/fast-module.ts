// The fast tier's module, in a chunk of its own that setPrecision('fast') imports on demand, so
// the main bundle carries one module, not two.
import fastEmbedded from '../../wasm/latentkit-fast.wasm';

export default fastEmbedded;
