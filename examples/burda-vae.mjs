// The one-stochastic-layer VAE of Burda et al. (2016) as examples/vae-mnist.mjs trains it, shared
// with bench/workloads.mjs so that the bench's VAE step is the example's.
import { VAE, convAutoencoder, mlp, stack } from 'latentkit';

const HIDDEN = [200, 200];
export const LATENT = 50;
// Batches of 100. In 8-minute runs side by side (--minutes 8 --threads 1 --batch B) batches of 50
// led (test ELBO −98.9 against −100.6 with 100 and −100.8 with 200), but over the full budget a
// batch-50 run trailed the batch-100 one by 1.5 nats at 23 minutes and only drew level at the end
// (87.65 nats after 1,171 epochs against 87.66 after 818): per epoch, the larger batch learns more
// once the run is long, and its epochs are also about 10% quicker.
export const BATCH = 100;
export const LR = 1e-3;

/**
 * Encoder 784-200-200-(2·latent) and decoder latent-200-200-784, tanh, Bernoulli outputs, Adam;
 * the KL term's weight rises from 0 to 1 over the first `klWarmup` steps.
 * Returns the VAE with its two stacks, which the caller disposes after the VAE.
 */
export function burdaVae({ latent = LATENT, lr = LR, klWarmup = 0, seed = 1 } = {}) {
  const encoder = mlp([784, ...HIDDEN, 2 * latent], { activation: 'tanh', outputActivation: 'linear', seed });
  const decoder = mlp([latent, ...HIDDEN, 784], { activation: 'tanh', outputActivation: 'linear', seed: seed + 1 });
  const vae = new VAE({ encoder, decoder, likelihood: 'bernoulli', klWarmup, optimizer: { type: 'adam', lr }, seed: seed + 2 });
  return { vae, encoder, decoder };
}

/**
 * The convolutional variant (vae-mnist --conv): latentkit's default convolutional encoder for
 * 28 × 28 (conv 32, 64; 4 × 4, stride 2, ReLU; dense 256) to the Gaussian's 2·latent numbers, and a narrower
 * mirror-image decoder (dense to 32 × 7 × 7, transposed convolutions 32 → 16 → 1, ReLU, Bernoulli
 * logits out). Narrow because the test NLL runs the decoder 5,000 times per test image: this one
 * costs about 2.6 times the dense decoder's multiply-adds.
 */
export function convVae({ latent = LATENT, lr = LR, klWarmup = 0, seed = 1 } = {}) {
  const { encoder: e } = convAutoencoder([1, 28, 28], { code: 2 * latent, width: 32, batchNorm: false });
  const { decoder: d } = convAutoencoder([1, 28, 28], { code: latent, width: 16, hidden: 0, batchNorm: false, output: 'linear' });
  const encoder = stack(e.input, e.layers, { seed });
  const decoder = stack(d.input, d.layers, { seed: seed + 1 });
  const vae = new VAE({ encoder, decoder, likelihood: 'bernoulli', klWarmup, optimizer: { type: 'adam', lr }, seed: seed + 2 });
  return { vae, encoder, decoder };
}
