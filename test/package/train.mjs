// Trains a tiny autoencoder and GAN through the public API and reports what a user would check.
import { Autoencoder, GAN, Rng, load, mlp, save } from 'latentkit';

export async function train() {
  const rng = new Rng(1);
  const x = rng.uniformArray(64 * 8);
  const ae = new Autoencoder({
    encoder: mlp([8, 4], { activation: 'tanh', seed: 1 }),
    decoder: mlp([4, 8], { outputActivation: 'sigmoid', seed: 2 }),
    optimizer: { type: 'adam', lr: 0.01 },
    seed: 3,
  });
  const history = ae.fit(x, { epochs: 20, batchSize: 16 });
  const copy = load(save(ae));
  const same = copy.reconstruct(x).data.every((v, i) => v === ae.reconstruct(x).data[i]);
  const gan = new GAN({
    generator: mlp([2, 8, 8], { activation: 'relu', outputActivation: 'tanh', seed: 4 }),
    discriminator: mlp([8, 8, 1], { activation: 'relu', seed: 5 }),
    noise: { dim: 2 }, batchSize: 16, seed: 6,
  });
  gan.fit(rng.normalArray(64 * 8), { iterations: 10 });
  return { first: history.loss[0], last: history.loss.at(-1), sameAfterLoad: same, ganIterations: gan.iterations, samples: gan.sample(3).length };
}
