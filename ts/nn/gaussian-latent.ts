import { Block, heap } from '../runtime/memory.js';
import { kernels } from '../runtime/dispatch.js';
import type { Rng } from '../runtime/rng.js';
import type { ChainNode } from './train-step.js';

/**
 * A variational autoencoder's latent as a chain link (Kingma & Welling 2014): the encoder's
 * rows hold q(z|x)'s means and log-variances; forward draws ε ~ N(0, I) and passes on the
 * reparameterised z = μ + σ·ε; backward turns ∂L/∂z into ∂L/∂(μ, log σ²) and adds the KL term's
 * gradient, weight(step) · mean over rows of KL(q ‖ N(0, I)), returning that term. With
 * `perRow`, each row has a weight of its own (the semi-supervised VAE's q(y|x)): the term is
 * Σ_r w_r·KL_r, and each row's KL is kept for the caller. A row weighted exactly 0 is out of the
 * whole loss (the caller weighs its reconstruction alike), so its ∂L/∂(μ, log σ²) is 0.
 */
export class GaussianLatent implements ChainNode {
  private stats = 0;
  private eps: Block | null = null;
  private z: Block | null = null;
  private dz: Block | null = null;
  /** Mean KL per row of the last backward (nats), whatever its weight. */
  lastKl = 0;

  constructor(
    readonly latentSize: number,
    private readonly rng: Rng,
    /** The KL term's weight for the step being taken (β, warmed up). A null dInput in backward computes the term alone. */
    private readonly weight: () => number,
    /** Byte offsets of the rows' weights (f32) and of where each row's KL goes (f64), read at each backward. */
    private readonly perRow?: { weights: () => number; kl: (rows: number) => number },
  ) {}

  get outputSize(): number {
    return this.latentSize;
  }

  get outputGradPtr(): number {
    return this.dz!.ptr;
  }

  /** The ε of the last forward (rows × latent), for the importance weights. */
  get epsPtr(): number {
    return this.eps!.ptr;
  }

  /** Draws ε and writes z; `stats` is the encoder's output (rows × 2·latent). */
  forward(stats: number, rows: number): number {
    const n = rows * this.latentSize;
    this.eps = heap.reserve(this.eps, n, 'the VAE noise ε');
    this.z = heap.reserve(this.z, n, 'the VAE latent samples');
    this.dz = heap.reserve(this.dz, n, 'the gradient with respect to the VAE latent');
    this.stats = stats;
    this.rng.normal(this.eps, 0, 1, n);
    kernels.vae_reparameterize(stats, this.eps.ptr, this.z.ptr, rows, this.latentSize);
    return this.z.ptr;
  }

  backward(rows: number, dInput: number): number {
    if (this.perRow) {
      const weights = this.perRow.weights();
      const kl = this.perRow.kl(rows);
      kernels.vae_kl_rows(this.stats, this.eps!.ptr, this.dz!.ptr, dInput, rows, this.latentSize, weights, kl);
      const f64 = new Float64Array(heap.memoryBuffer, kl, rows);
      let term = 0;
      let sum = 0;
      const width = 2 * this.latentSize;
      for (let r = 0; r < rows; r++) {
        const w = heap.f32[(weights >>> 2) + r]!;
        // Zeroed, not multiplied by 0: 0 · an overflowed term is NaN.
        if (w !== 0) term += w * f64[r]!;
        else if (dInput) kernels.fill(dInput + r * width * 4, width, 0);
        sum += f64[r]!;
      }
      this.lastKl = sum / rows;
      return term;
    }
    const w = this.weight();
    const sum = kernels.vae_kl(this.stats, this.eps!.ptr, this.dz!.ptr, dInput, rows, this.latentSize, w / rows);
    this.lastKl = sum / rows;
    return w * this.lastKl;
  }

  dispose(): void {
    for (const b of [this.eps, this.z, this.dz]) if (b) heap.free(b);
    this.eps = this.z = this.dz = null;
  }
}
