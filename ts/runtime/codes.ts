// The kernels' enum codes, one table per Rust enum (crates/kernels/src: activation.rs, loss.rs,
// init.rs, gemm/mod.rs, gaussian.rs). test/kernels.test.ts reads those enums and fails when a name or code
// here differs (names compare without case or dashes: 'leaky-relu' is LeakyRelu).
export const ACTIVATION = { linear: 0, tanh: 1, sigmoid: 2, relu: 3, 'leaky-relu': 4, softplus: 5 } as const;
export const LOSS = { mse: 0, 'bce-with-logits': 1, 'softmax-cross-entropy': 2 } as const;
export const INIT = { 'glorot-uniform': 0, 'glorot-normal': 1, 'he-normal': 2, 'he-uniform': 3 } as const;
/** C = A·B (nn), A·Bᵀ (nt), Aᵀ·B (tn): the three products of a dense layer. */
export const GEMM_LAYOUT = { nn: 0, nt: 1, tn: 2 } as const;
/**
 * How a column part of a split dense kernel packs A (the operand every part shares): block by
 * block (a call that is the whole product), whole (a thread's first part of a job), or as its
 * previous part of the same job left it (gemm/mod.rs: PackA).
 */
export const PACK_A = { blocks: 0, whole: 1, reuse: 2 } as const;
/** A variational autoencoder's p(x|z): Bernoulli logits, or a Gaussian with a fixed or learned variance. */
export const LIKELIHOOD = { bernoulli: 0, 'gaussian-fixed': 1, 'gaussian-learned': 2 } as const;
