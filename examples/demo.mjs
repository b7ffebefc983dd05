// The quick-start demo: a 784-128-32-128-784 autoencoder learns to compress
// 10,000 MNIST digits into 32 numbers; the loss goes down epoch by epoch.
import { Sequential, memoryStats, mlp } from 'latentkit';
import { loadMnist } from './mnist.mjs';

const train = loadMnist('train', { limit: 10_000 });
const test = loadMnist('test', { limit: 2_000 });

const encoder = mlp([784, 128, 32], { activation: 'relu', outputActivation: 'linear', seed: 1 });
const decoder = mlp([32, 128, 784], { activation: 'relu', outputActivation: 'sigmoid', seed: 2 });
const autoencoder = new Sequential([encoder, decoder], { loss: 'mse', optimizer: { type: 'adam', lr: 2e-3 }, seed: 3 });

console.log(`latentkit demo: autoencoder 784-128-32-128-784 on ${train.x.shape[0]} MNIST digits (batch 128)`);
console.log(`test reconstruction MSE before training: ${autoencoder.evaluate(test.x, test.x).toFixed(5)}`);
const epochs = 5;
const stepsPerEpoch = Math.ceil(train.x.shape[0] / 128);
let t0 = performance.now();
autoencoder.fit(train.x, train.x, {
  epochs,
  batchSize: 128,
  validation: { x: test.x, y: test.x },
  onEpoch(epoch, { loss, valLoss }) {
    const ms = (performance.now() - t0) / stepsPerEpoch;
    console.log(`epoch ${epoch + 1}/${epochs}  train loss ${loss.toFixed(5)}  test loss ${valLoss.toFixed(5)}  (${ms.toFixed(2)} ms/step)`);
    t0 = performance.now();
  },
});
const codes = encoder.predict(test.x);
console.log(`encoded ${codes.shape[0]} test digits to ${codes.shape[1]} numbers each; WebAssembly memory ${(memoryStats().memoryBytes / 1048576).toFixed(1)} MiB`);
autoencoder.dispose();
encoder.dispose();
decoder.dispose();
