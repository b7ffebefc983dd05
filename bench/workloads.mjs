// latentkit's training workloads as the bench measures them, one step each, shared by
// bench/latentkit.mjs (timing) and bench/trace.mjs (where the time goes).
import { setFlagsFromString } from 'node:v8';
import { Autoencoder, GAN, VAE, mlp, setPrecision } from 'latentkit';
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

/** vae: Burda et al.'s 784-200-200-(2·50) / 50-200-200-784 tanh VAE, Bernoulli, Adam, one step on a batch of 50, as examples/vae-mnist.mjs trains it. */
export function vaeStep() {
  const encoder = mlp([784, 200, 200, 100], { activation: 'tanh', outputActivation: 'linear', seed: 1 });
  const decoder = mlp([50, 200, 200, 784], { activation: 'tanh', outputActivation: 'linear', seed: 2 });
  const vae = new VAE({ encoder, decoder, likelihood: 'bernoulli', optimizer: { type: 'adam', lr: 1e-3 }, seed: 3 });
  const x = data(50 * 784, 6).map((v) => (v > 0 ? 1 : 0));
  return () => vae.trainStep(x);
}

/** The fast tier, or an error: Node 20 compiles relaxed SIMD only behind this flag, set in the bench's own process. */
export async function useFastTier() {
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  if ((await setPrecision('fast')) !== 'fast') throw new Error('the fast tier did not load');
}
