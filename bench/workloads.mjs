// latentkit's training workloads as the bench measures them, one step each, shared by
// bench/latentkit.mjs (timing) and bench/trace.mjs (where the time goes).
import { Autoencoder, GAN, batchNorm, conv2d, convTranspose2d, dense, flatten, mlp, reshape, setPrecision, stack } from 'latentkit';
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

/**
 * dcgan: one Algorithm-1 iteration (k = 1) of the DCGAN for 28 × 28 images on batches of 64: G is
 * z(100) → dense 128·7·7 → batch norm, ReLU → convTranspose 128→64 (4×4, stride 2) → batch norm,
 * ReLU → convTranspose 64→1 (4×4, stride 2) → tanh; D is conv 1→64 (4×4, stride 2) → leaky ReLU
 * → conv 64→128 (4×4, stride 2) → batch norm, leaky ReLU → dense 1. Adam(2e-4, 0.5).
 */
export function dcganStep(m = 64) {
  const leaky = { type: 'leaky-relu', alpha: 0.2 };
  const G = stack(100, [
    dense(128 * 7 * 7), reshape([128, 7, 7]), batchNorm({ activation: 'relu' }),
    convTranspose2d(64, { kernel: 4, stride: 2, padding: 1 }), batchNorm({ activation: 'relu' }),
    convTranspose2d(1, { kernel: 4, stride: 2, padding: 1, activation: 'tanh' }), flatten(),
  ], { seed: 1 });
  const D = stack([1, 28, 28], [
    conv2d(64, { kernel: 4, stride: 2, padding: 1, activation: leaky }),
    conv2d(128, { kernel: 4, stride: 2, padding: 1 }), batchNorm({ activation: leaky }),
    flatten(), dense(1),
  ], { seed: 2 });
  const gan = new GAN({ generator: G, discriminator: D, noise: { dim: 100 }, batchSize: m, optimizerD: { type: 'adam', lr: 2e-4, beta1: 0.5 }, optimizerG: { type: 'adam', lr: 2e-4, beta1: 0.5 } });
  const real = data(m * 4 * 784, 5);
  return () => gan.fit(real, { iterations: 1 });
}

/**
 * Multiply-adds of the convolution GEMMs in one dcgan iteration: each convolution's forward and
 * its two gradients (weight, input) where they run; D's first convolution needs no input gradient.
 */
export function dcganConvMacs(m = 64) {
  // [forward MACs per image]: D conv1 64×16 per 196 pixels, D conv2 128×1024 per 49, G convT1
  // (as a convolution 64→128 on 14×14 → 7×7) 128×1024 per 49, G convT2 (1→64, 28×28 → 14×14) 64×16 per 196.
  const dConv1 = 64 * 16 * 196, dConv2 = 128 * 1024 * 49, gConv1 = 128 * 1024 * 49, gConv2 = 64 * 16 * 196;
  // D step: G forward for the fakes; D on real and on fake: forward and weight gradient of both
  // convolutions, input gradient of the second (the first's input is data). G step: G and D
  // forward, D's input gradients through both convolutions (no weight gradients), G's weight and
  // input gradients through both transposed convolutions.
  const dStep = 2 * (2 * dConv1 + 3 * dConv2) + (gConv1 + gConv2);
  const gStep = 3 * (gConv1 + gConv2) + 2 * (dConv1 + dConv2);
  return m * (dStep + gStep);
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
