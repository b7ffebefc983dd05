// latentkit's training workloads as the bench measures them, one step each, shared by
// bench/latentkit.mjs (timing) and bench/trace.mjs (where the time goes).
import { Autoencoder, GAN, mlp, setPrecision } from 'latentkit';
import { enableRelaxedSimd } from 'latentkit/node';
import { BATCH, burdaVae } from '../examples/burda-vae.mjs';
import { GAN_SIZES, data } from './timing.mjs';

/** gan64, gan256: one Algorithm-1 iteration (k = 1) of the 100-256-512-784 GAN on batches of m. */
export function ganStep(m) {
  const leaky = { type: 'leaky-relu', alpha: 0.2 };
  const G = mlp(GAN_SIZES.g, { activation: leaky, outputActivation: 'tanh', seed: 1 });
  const D = mlp(GAN_SIZES.d, { activation: leaky, seed: 2 });
  const gan = new GAN({ generator: G, discriminator: D, noise: { dim: 100 }, batchSize: m, optimizerD: { type: 'adam', lr: 2e-4, beta1: 0.5 }, optimizerG: { type: 'adam', lr: 2e-4, beta1: 0.5 } });
  const real = data(m * 4 * 784, 5);
  return () => gan.fit(real, { iterations: 1 });
}

/** ae784: 784-512-128-32-128-512-784 ReLU, sigmoid output, MSE, Adam, one step on a batch of 128. */
export function ae784Step() {
  const encoder = mlp([784, 512, 128, 32], { seed: 1 });
  const decoder = mlp([32, 128, 512, 784], { outputActivation: 'sigmoid', seed: 2 });
  const ae = new Autoencoder({ encoder, decoder, loss: 'mse', optimizer: { type: 'adam', lr: 1e-3 } });
  const x = data(128 * 784, 4).map((v) => (v + 1) / 2);
  return () => ae.trainStep(x);
}

/** vae: one step of examples/vae-mnist.mjs's VAE (examples/burda-vae.mjs) on a batch of its size. */
export function vaeStep() {
  const { vae } = burdaVae();
  const x = data(BATCH * 784, 6).map((v) => (v > 0 ? 1 : 0));
  return () => vae.trainStep(x);
}

/** The fast tier, or an error: Node 20 compiles relaxed SIMD only behind this flag, set in the bench's own process. */
export async function useFastTier() {
  enableRelaxedSimd();
  if ((await setPrecision('fast')) !== 'fast') throw new Error('the fast tier did not load');
}
