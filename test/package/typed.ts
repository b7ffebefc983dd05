// Type-checked against the installed package's declarations (moduleResolution node16 and bundler).
import { Autoencoder, GAN, type History, LatentkitError, type Matrix, Rng, load, mlp, save } from 'latentkit';
import { writeFileAtomic } from 'latentkit/node';
import { decodePngGray, encodePng } from 'latentkit/png';
import { decodeJpegGray } from 'latentkit/jpeg';

const encoder = mlp([8, 4], { activation: 'tanh', seed: 1 });
const decoder = mlp([4, 8], { outputActivation: 'sigmoid', seed: 2 });
const ae = new Autoencoder({ encoder, decoder, optimizer: { type: 'adam', lr: 1e-3 } });
const x: Float32Array = new Rng(1).uniformArray(16 * 8);
const history: History = ae.fit(x, { epochs: 1, batchSize: 4 });
const codes: Matrix = ae.encode(x);
const bytes: Uint8Array = save(ae);
const model = load(bytes);
const gan = new GAN({ generator: mlp([2, 8]), discriminator: mlp([8, 1]), noise: { dim: 2 } });
const sample: Float32Array = gan.sample(4, { seed: 1 });
const gray = decodePngGray(encodePng(new Uint8Array(4), 2, 2, 1));
const n: number = history.loss.length + codes.shape[1] + sample.length + gray.width;
export { model, n, writeFileAtomic, decodeJpegGray, LatentkitError };

// The declarations are real types, not `any`: each of these must be a type error.
// @ts-expect-error sizes are numbers
mlp(['8', 4]);
// @ts-expect-error no such activation
mlp([8, 4], { activation: 'gelu' });
// @ts-expect-error fit takes options, not a number of epochs
ae.fit(x, 3);
