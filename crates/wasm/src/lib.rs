//! The C ABI latentkit's TypeScript calls: pointer + length entry points over WebAssembly
//! linear memory, plus the allocator that hands out that memory. No logic lives here beyond
//! turning pointers into slices and codes into enums. `ts/runtime/kernels.ts` declares every
//! export once (name, typed arguments, how threads split it); a test checks the two agree.
//!
//! # Safety (every `lk_*` entry point)
//! TypeScript validates every input before it calls, so an entry point trusts its caller for:
//! - each pointer with a length: valid for that many elements of its type, 4-byte aligned
//!   (16 for RNG states), within memory, and not aliasing another output of the same call;
//! - a pointer documented as nullable: null or as above;
//! - codes (activation, loss, init, GEMM layout) come from `ts/runtime/codes.ts`; an unknown
//!   one is a bug on the TypeScript side and traps (`unreachable`) rather than computing
//!   something else;
//! - packing space (`pack`): see [`scratch_at`].
#![allow(clippy::too_many_arguments)]

use core::slice::{from_raw_parts, from_raw_parts_mut};
use latentkit_kernels::activation::{self, Activation};
use latentkit_kernels::gemm::{self, params, Layout, PackA, Scratch, Start};
use latentkit_kernels::init::{init_weights, Init};
use latentkit_kernels::rng::Xoshiro128ss;
use latentkit_kernels::simd::Native;
use latentkit_kernels::gaussian::{self, Likelihood};
use latentkit_kernels::conv::{self, Geometry};
use latentkit_kernels::norm::batch_norm::{self, Shape};
use latentkit_kernels::norm::weight_norm::{self, Units};
use latentkit_kernels::{dense, linalg, loss, optim};
use std::alloc::{alloc, dealloc, Layout as AllocLayout};

static mut LIVE_ALLOCATIONS: u32 = 0;
// The static packing space: no GEMM ever allocates.
static mut PACK_A: [f32; params::PACK_A_LEN] = [0.0; params::PACK_A_LEN];
static mut PACK_B: [f32; params::PACK_B_LEN] = [0.0; params::PACK_B_LEN];
static mut WHOLE_A: [f32; params::WHOLE_A_LEN] = [0.0; params::WHOLE_A_LEN];

/// The GEMM packing space for a call: the module's static buffers when `pack` is null, else
/// PACK_A_LEN, PACK_B_LEN then WHOLE_A_LEN floats at `pack`; A packed as `pack_a` says (a whole
/// call: [`PackA::Blocks`]; a part of a column split: the code the pool passed).
///
/// # Safety
/// Worker threads run this same module over the same shared memory, so the static buffers
/// are one thread's only: the thread that instantiated the module (the pool's owner) passes
/// null, and every worker passes the packing space the pool allocated for it alone
/// (`ts/runtime/threads.ts`). Workers never call the allocator or any entry point without a
/// `pack` argument (the pool dispatches only the declared split kernels to them), and a
/// thread runs one call at a time, so each exclusive borrow below holds for the call.
/// `Reuse` only on the part after one with `Whole` or `Reuse`, on the same thread, of the same
/// call (ts/runtime/control.ts: runPart).
unsafe fn scratch_at<'a>(pack: *mut f32, pack_a: PackA) -> Scratch<'a> {
    if pack.is_null() {
        Scratch::with_whole_a(&mut *core::ptr::addr_of_mut!(PACK_A), &mut *core::ptr::addr_of_mut!(PACK_B), &mut *core::ptr::addr_of_mut!(WHOLE_A), pack_a)
    } else {
        let whole = pack.add(params::PACK_A_LEN + params::PACK_B_LEN);
        Scratch::with_whole_a(from_raw_parts_mut(pack, params::PACK_A_LEN), from_raw_parts_mut(pack.add(params::PACK_A_LEN), params::PACK_B_LEN), from_raw_parts_mut(whole, params::WHOLE_A_LEN), pack_a)
    }
}

/// An enum from its code; an unknown code traps (see the module's safety contract).
fn code<T>(value: Option<T>) -> T {
    match value {
        Some(v) => v,
        None => std::process::abort(),
    }
}

/// Floats of packing space one worker thread needs (lk_*_columns take it as `pack`).
#[no_mangle]
pub extern "C" fn lk_pack_floats() -> usize {
    params::PACK_A_LEN + params::PACK_B_LEN + params::WHOLE_A_LEN
}

unsafe fn s<'a>(p: *const f32, n: usize) -> &'a [f32] {
    if n == 0 { &[] } else { from_raw_parts(p, n) }
}
unsafe fn sm<'a>(p: *mut f32, n: usize) -> &'a mut [f32] {
    if n == 0 { &mut [] } else { from_raw_parts_mut(p, n) }
}
/// 16-byte-aligned block of `bytes` (> 0); 0 when memory cannot grow.
#[no_mangle]
pub unsafe extern "C" fn lk_alloc(bytes: usize) -> *mut u8 {
    match AllocLayout::from_size_align(bytes.max(16), 16) {
        Ok(layout) => {
            let p = alloc(layout);
            if !p.is_null() {
                LIVE_ALLOCATIONS += 1;
            }
            p
        }
        Err(_) => core::ptr::null_mut(),
    }
}

/// Frees a block from `lk_alloc` of the same size.
#[no_mangle]
pub unsafe extern "C" fn lk_free(ptr: *mut u8, bytes: usize) {
    if !ptr.is_null() {
        dealloc(ptr, AllocLayout::from_size_align_unchecked(bytes.max(16), 16));
        LIVE_ALLOCATIONS -= 1;
    }
}

/// Blocks handed out by `lk_alloc` and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn lk_live_allocations() -> u32 {
    LIVE_ALLOCATIONS
}

/// Layout Nn: C[m×n] = A[m×k]·B[k×n]; Nt: C[m×k] = A[m×n]·B[k×n]ᵀ; Tn: C[k×n] = A[m×k]ᵀ·B[m×n].
/// `accumulate` adds to C. On the static packing space (the calling thread's).
#[no_mangle]
pub unsafe extern "C" fn lk_gemm(layout: u32, m: usize, k: usize, n: usize, a: *const f32, b: *const f32, c: *mut f32, accumulate: u32) {
    let mut sc = scratch_at(core::ptr::null_mut(), PackA::Blocks);
    let start = if accumulate != 0 { Start::Accumulate } else { Start::Overwrite };
    match code(Layout::from_code(layout)) {
        Layout::Nn => gemm::gemm_nn::<Native>(m, k, n, s(a, m * k), s(b, k * n), sm(c, m * n), start, &mut sc),
        Layout::Nt => gemm::gemm_nt::<Native>(m, n, k, s(a, m * n), s(b, k * n), sm(c, m * k), start, &mut sc),
        Layout::Tn => gemm::gemm_tn::<Native>(m, k, n, s(a, m * k), s(b, m * n), sm(c, k * n), start, &mut sc),
    }
}

/// Columns j0..j1 of y[m×n] = f(x[m×k]·w + b) (b nullable: no bias), w being k×n, or n×k used
/// transposed when `transposed` ≠ 0; packing space `pack` (null: the static one), A packed as `pack_a` says.
#[no_mangle]
pub unsafe extern "C" fn lk_dense_forward_columns(
    m: usize, k: usize, n: usize, x: *const f32, w: *const f32, b: *const f32, y: *mut f32,
    activation: u32, alpha: f32, transposed: u32, j0: usize, j1: usize, pack: *mut f32, pack_a: u32,
) {
    dense::dense_forward_columns::<Native>(m, k, n, s(x, m * k), s(w, k * n), nullable(b, n), sm(y, m * n), code(Activation::from_code(activation)), alpha, transposed != 0, j0..j1, &mut scratch_at(pack, code(PackA::from_code(pack_a))));
}

/// Output columns j0..j1 of the first half of a dense backward pass: dy ← dy⊙f′(y), and dw, db
/// unless dw is null (db nullable on its own; y null for a linear layer, which does not read it).
#[no_mangle]
pub unsafe extern "C" fn lk_dense_backward_params_columns(
    m: usize, k: usize, n: usize, x: *const f32, y: *const f32, dy: *mut f32, dw: *mut f32, db: *mut f32,
    activation: u32, alpha: f32, transposed: u32, j0: usize, j1: usize, pack: *mut f32, pack_a: u32,
) {
    let params = if dw.is_null() { None } else { Some((sm(dw, k * n), nullable_mut(db, n))) };
    dense::dense_backward_params_columns::<Native>(m, k, n, s(x, m * k), nullable(y, m * n).unwrap_or(&[]), sm(dy, m * n), params, code(Activation::from_code(activation)), alpha, transposed != 0, j0..j1, &mut scratch_at(pack, code(PackA::from_code(pack_a))));
}

/// Input columns i0..i1 of the second half of a dense backward pass: dx = dz·wᵀ (dz·w when
/// `transposed`), after the first half has run over every output column.
#[no_mangle]
pub unsafe extern "C" fn lk_dense_backward_input_columns(
    m: usize, k: usize, n: usize, dz: *const f32, w: *const f32, dx: *mut f32, transposed: u32, i0: usize, i1: usize, pack: *mut f32, pack_a: u32,
) {
    dense::dense_backward_input_columns::<Native>(m, k, n, s(dz, m * n), s(w, k * n), sm(dx, m * k), transposed != 0, i0..i1, &mut scratch_at(pack, code(PackA::from_code(pack_a))));
}

fn geometry(channels: usize, height: usize, width: usize, outputs: usize, out_height: usize, out_width: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize) -> Geometry {
    Geometry { channels, height, width, outputs, out_height, out_width, kernel: (kh, kw), stride: (sh, sw), padding: (ph, pw) }
}

unsafe fn nullable<'a>(p: *const f32, n: usize) -> Option<&'a [f32]> {
    if p.is_null() { None } else { Some(s(p, n)) }
}
unsafe fn nullable_mut<'a>(p: *mut f32, n: usize) -> Option<&'a mut [f32]> {
    if p.is_null() { None } else { Some(sm(p, n)) }
}

/// Images i0..i1 of a convolution C×H×W → O×OH×OW (crates/kernels/src/conv): each output
/// pixel's patch as a row.
#[no_mangle]
pub unsafe extern "C" fn lk_im2row_images(
    images: usize, channels: usize, height: usize, width: usize, outputs: usize, out_height: usize, out_width: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize,
    x: *const f32, patches: *mut f32, i0: usize, i1: usize, _pack: *mut f32, _pack_a: u32,
) {
    let g = geometry(channels, height, width, outputs, out_height, out_width, kh, kw, sh, sw, ph, pw);
    conv::im2row_images::<Native>(&g, s(x, images * g.input_len()), sm(patches, images * g.patches_len()), i0..i1);
}

/// Images i0..i1: x ← the patches summed back into the pixels they came from, plus b per channel
/// when b is not null, then f.
#[no_mangle]
pub unsafe extern "C" fn lk_row2im_images(
    images: usize, channels: usize, height: usize, width: usize, outputs: usize, out_height: usize, out_width: usize, kh: usize, kw: usize, sh: usize, sw: usize, ph: usize, pw: usize,
    patches: *const f32, x: *mut f32, b: *const f32, activation: u32, alpha: f32, i0: usize, i1: usize, _pack: *mut f32, _pack_a: u32,
) {
    let g = geometry(channels, height, width, outputs, out_height, out_width, kh, kw, sh, sw, ph, pw);
    conv::row2im_images::<Native>(&g, s(patches, images * g.patches_len()), sm(x, images * g.input_len()), nullable(b, channels), code(Activation::from_code(activation)), alpha, i0..i1);
}

/// Images i0..i1, each a rows×cols matrix, transposed into dst (NCHW planes to rows of channels and back).
#[no_mangle]
pub unsafe extern "C" fn lk_transpose_images(images: usize, rows: usize, cols: usize, src: *const f32, dst: *mut f32, i0: usize, i1: usize, _pack: *mut f32, _pack_a: u32) {
    let n = images * rows * cols;
    conv::transpose_images(rows, cols, s(src, n), sm(dst, n), i0..i1);
}

/// Channels c0..c1 of N×C×S: dy ← dy ⊙ f′(y), db += Σ dy per channel unless db is null.
#[no_mangle]
pub unsafe extern "C" fn lk_bias_activation_backward_channels(
    images: usize, channels: usize, size: usize, y: *const f32, dy: *mut f32, db: *mut f32, activation: u32, alpha: f32, c0: usize, c1: usize, _pack: *mut f32, _pack_a: u32,
) {
    let n = images * channels * size;
    conv::bias_activation_backward_channels::<Native>(images, channels, size, s(y, n), sm(dy, n), nullable_mut(db, channels), code(Activation::from_code(activation)), alpha, c0..c1);
}

/// Channels c0..c1 of batch norm over N×C×S (crates/kernels/src/norm/batch_norm.rs).
#[no_mangle]
pub unsafe extern "C" fn lk_batch_norm_forward_channels(
    images: usize, channels: usize, size: usize, x: *const f32, y: *mut f32, gamma: *const f32, beta: *const f32, mean: *mut f32, inv_std: *mut f32,
    running_mean: *mut f32, running_var: *mut f32, train: u32, activation: u32, momentum: f32, eps: f32, alpha: f32, c0: usize, c1: usize, _pack: *mut f32, _pack_a: u32,
) {
    let n = images * channels * size;
    let p = batch_norm::Params { gamma: s(gamma, channels), beta: s(beta, channels), mean: sm(mean, channels), inv_std: sm(inv_std, channels), running_mean: sm(running_mean, channels), running_var: sm(running_var, channels) };
    batch_norm::batch_norm_forward_channels::<Native>(Shape { images, channels, size }, s(x, n), sm(y, n), p, momentum, eps, train != 0, code(Activation::from_code(activation)), alpha, c0..c1);
}

/// Channels c0..c1 of batch norm's backward pass; dgamma (with dbeta) and dx nullable.
#[no_mangle]
pub unsafe extern "C" fn lk_batch_norm_backward_channels(
    images: usize, channels: usize, size: usize, x: *const f32, y: *const f32, dy: *mut f32, gamma: *const f32, mean: *const f32, inv_std: *const f32,
    dgamma: *mut f32, dbeta: *mut f32, dx: *mut f32, train: u32, activation: u32, alpha: f32, c0: usize, c1: usize, _pack: *mut f32, _pack_a: u32,
) {
    let n = images * channels * size;
    let params = if dgamma.is_null() { None } else { Some((sm(dgamma, channels), sm(dbeta, channels))) };
    batch_norm::batch_norm_backward_channels::<Native>(
        Shape { images, channels, size }, s(x, n), s(y, n), sm(dy, n), s(gamma, channels), s(mean, channels), s(inv_std, channels), params, nullable_mut(dx, n),
        train != 0, code(Activation::from_code(activation)), alpha, c0..c1,
    );
}

fn units(units: usize, len: usize, unit_stride: usize, elem_stride: usize) -> (Units, usize) {
    let l = Units { units, len, unit_stride, elem_stride };
    (l, if units == 0 || len == 0 { 0 } else { (units - 1) * unit_stride + (len - 1) * elem_stride + 1 })
}

/// w ← g·v/‖v‖ for units u0..u1 (crates/kernels/src/norm/weight_norm.rs).
#[no_mangle]
pub unsafe extern "C" fn lk_weight_norm_forward(
    count: usize, len: usize, unit_stride: usize, elem_stride: usize, v: *const f32, g: *const f32, w: *mut f32, norms: *mut f32, u0: usize, u1: usize, _pack: *mut f32, _pack_a: u32,
) {
    let (l, extent) = units(count, len, unit_stride, elem_stride);
    weight_norm::weight_norm_forward(l, s(v, extent), s(g, count), sm(w, extent), sm(norms, count), u0..u1);
}

/// dg += ∂L/∂g, dv += ∂L/∂v from dw = ∂L/∂w, for units u0..u1.
#[no_mangle]
pub unsafe extern "C" fn lk_weight_norm_backward(
    count: usize, len: usize, unit_stride: usize, elem_stride: usize, v: *const f32, g: *const f32, norms: *const f32, dw: *const f32, dv: *mut f32, dg: *mut f32, u0: usize, u1: usize,
    _pack: *mut f32, _pack_a: u32,
) {
    let (l, extent) = units(count, len, unit_stride, elem_stride);
    weight_norm::weight_norm_backward(l, s(v, extent), s(g, count), s(norms, count), s(dw, extent), sm(dv, extent), sm(dg, count), u0..u1);
}

/// y[0..n] ← f(y).
#[no_mangle]
pub unsafe extern "C" fn lk_activation_forward(activation: u32, alpha: f32, y: *mut f32, n: usize) {
    activation::forward::<Native>(code(Activation::from_code(activation)), alpha, sm(y, n));
}

/// dy[0..n] ← dy ⊙ f′ expressed through y = f(x).
#[no_mangle]
pub unsafe extern "C" fn lk_activation_backward(activation: u32, alpha: f32, y: *const f32, dy: *mut f32, n: usize) {
    activation::backward::<Native>(code(Activation::from_code(activation)), alpha, s(y, n), sm(dy, n));
}

/// Mean loss × weight over rows×cols predictions; writes ∂/∂pred into grad.
/// A null target means every target equals `const_target` (binary cross-entropy only).
#[no_mangle]
pub unsafe extern "C" fn lk_loss(kind: u32, pred: *const f32, target: *const f32, const_target: f32, rows: usize, cols: usize, grad: *mut f32, weight: f32) -> f64 {
    let n = rows * cols;
    let (p, g) = (s(pred, n), sm(grad, n));
    match code(loss::Loss::from_code(kind)) {
        loss::Loss::Mse => loss::mse::<Native>(p, s(target, n), g, weight),
        loss::Loss::BceWithLogits => {
            let t = if target.is_null() { None } else { Some(s(target, n)) };
            loss::bce_logits(p, t, const_target, g, weight)
        }
        loss::Loss::SoftmaxCrossEntropy => loss::softmax_cross_entropy(p, s(target, n), cols, g, weight),
    }
}

/// The semi-supervised GAN's real (`real` ≠ 0) or fake objective on rows of class logits (loss::gan_classes).
#[no_mangle]
pub unsafe extern "C" fn lk_gan_classes(pred: *const f32, rows: usize, cols: usize, real: u32, grad: *mut f32, weight: f32) -> f64 {
    loss::gan_classes(s(pred, rows * cols), cols, real != 0, sm(grad, rows * cols), weight)
}

/// out[0..cols] ← the column means of x (rows × cols).
#[no_mangle]
pub unsafe extern "C" fn lk_column_means(x: *const f32, rows: usize, cols: usize, out: *mut f32) {
    loss::column_means(s(x, rows * cols), cols, sm(out, cols));
}

/// Feature matching against the target means (loss::feature_matching).
#[no_mangle]
pub unsafe extern "C" fn lk_feature_matching(features: *const f32, rows: usize, cols: usize, target: *const f32, grad: *mut f32, weight: f32) -> f64 {
    loss::feature_matching(s(features, rows * cols), cols, s(target, cols), sm(grad, rows * cols), weight)
}

#[no_mangle]
pub unsafe extern "C" fn lk_sgd(p: *mut f32, g: *const f32, vel: *mut f32, n: usize, lr: f32, momentum: f32, nesterov: u32) {
    let v = if momentum == 0.0 { sm(vel, 0) } else { sm(vel, n) };
    optim::sgd(sm(p, n), s(g, n), v, lr, momentum, nesterov != 0);
}

#[no_mangle]
pub unsafe extern "C" fn lk_adam(p: *mut f32, g: *const f32, m: *mut f32, v: *mut f32, n: usize, lr: f32, b1: f64, b2: f64, eps: f32, weight_decay: f32, t: u32) {
    optim::adam(sm(p, n), s(g, n), sm(m, n), sm(v, n), lr, b1, b2, eps, weight_decay, t);
}

#[no_mangle]
pub unsafe extern "C" fn lk_rmsprop(p: *mut f32, g: *const f32, nu: *mut f32, n: usize, lr: f32, decay: f64, eps: f32) {
    optim::rmsprop(sm(p, n), s(g, n), sm(nu, n), lr, decay, eps);
}

/// avg[0..n] ← decay·avg + (1 − decay)·p.
#[no_mangle]
pub unsafe extern "C" fn lk_ema(avg: *mut f32, p: *const f32, n: usize, decay: f64) {
    optim::ema(sm(avg, n), s(p, n), decay);
}

/// Σ g² in f64.
#[no_mangle]
pub unsafe extern "C" fn lk_sum_squares(g: *const f32, n: usize) -> f64 {
    optim::sum_squares(s(g, n))
}

/// g ← g·factor.
#[no_mangle]
pub unsafe extern "C" fn lk_scale(g: *mut f32, n: usize, factor: f32) {
    optim::scale(sm(g, n), factor);
}

/// p[0..n] ← value.
#[no_mangle]
pub unsafe extern "C" fn lk_fill(p: *mut f32, n: usize, value: f32) {
    sm(p, n).iter_mut().for_each(|x| *x = value);
}

/// Index of the first NaN or ±Inf in p[0..n], or −1.
#[no_mangle]
pub unsafe extern "C" fn lk_find_nonfinite(p: *const f32, n: usize) -> i32 {
    loss::first_nonfinite::<Native>(s(p, n)).map_or(-1, |i| i as i32)
}

/// Seeds the 16-byte xoshiro128** state at `state` from the 64-bit seed hi:lo.
#[no_mangle]
pub unsafe extern "C" fn lk_rng_seed(state: *mut Xoshiro128ss, lo: u32, hi: u32) {
    *state = Xoshiro128ss::from_seed(((hi as u64) << 32) | lo as u64);
}

#[no_mangle]
pub unsafe extern "C" fn lk_rng_uniform(state: *mut Xoshiro128ss, out: *mut f32, n: usize, lo: f32, hi: f32) {
    (*state).fill_uniform(sm(out, n), lo, hi);
}

#[no_mangle]
pub unsafe extern "C" fn lk_rng_normal(state: *mut Xoshiro128ss, out: *mut f32, n: usize, mean: f32, std: f32) {
    (*state).fill_normal(sm(out, n), mean, std);
}

/// A uniform integer in [0, n).
#[no_mangle]
pub unsafe extern "C" fn lk_rng_below(state: *mut Xoshiro128ss, n: u32) -> u32 {
    (*state).below(n)
}

/// Shuffles idx[0..n] in place.
#[no_mangle]
pub unsafe extern "C" fn lk_rng_shuffle(state: *mut Xoshiro128ss, idx: *mut u32, n: usize) {
    let xs = if n == 0 { &mut [][..] } else { from_raw_parts_mut(idx, n) };
    (*state).shuffle(xs);
}

/// Fills w[fan_in×fan_out] with the initialiser `kind`.
#[no_mangle]
pub unsafe extern "C" fn lk_init_weights(state: *mut Xoshiro128ss, kind: u32, w: *mut f32, fan_in: usize, fan_out: usize) {
    let kind = code(Init::from_code(kind));
    init_weights(kind, &mut *state, sm(w, fan_in * fan_out), fan_in, fan_out);
}


/// x[0..n] += N(0, std²).
#[no_mangle]
pub unsafe extern "C" fn lk_rng_add_normal(state: *mut Xoshiro128ss, x: *mut f32, n: usize, std: f32) {
    (*state).add_normal(sm(x, n), std);
}

/// p[i] ← 1 with probability p[i], else 0; returns the index of the first p[i] outside [0, 1]
/// (drawing nothing), or −1.
#[no_mangle]
pub unsafe extern "C" fn lk_rng_bernoulli(state: *mut Xoshiro128ss, p: *mut f32, n: usize) -> i32 {
    (*state).bernoulli_in_place(sm(p, n)).map_or(-1, |i| i as i32)
}

/// x[i] ← 0 with probability `rate`.
#[no_mangle]
pub unsafe extern "C" fn lk_rng_mask(state: *mut Xoshiro128ss, x: *mut f32, n: usize, rate: f32) {
    (*state).mask(sm(x, n), rate);
}

/// Returns Σ|h| over h[0..n]; dh += scale·sign(h).
#[no_mangle]
pub unsafe extern "C" fn lk_l1_penalty(h: *const f32, dh: *mut f32, n: usize, scale: f32) -> f64 {
    loss::l1_penalty(s(h, n), sm(dh, n), scale)
}

/// The VAE's sample z[rows×latent] = μ + exp(½·logvar)·ε from stats[rows×2·latent] and eps.
#[no_mangle]
pub unsafe extern "C" fn lk_vae_reparameterize(stats: *const f32, eps: *const f32, z: *mut f32, rows: usize, latent: usize) {
    let n = rows * latent;
    gaussian::reparameterize(s(stats, 2 * n), s(eps, n), sm(z, n), latent);
}

/// Σ_rows KL(q ‖ N(0, I)); with a non-null `dstats`, also the gradient of weight·ΣKL plus the
/// sample's path from dz (see gaussian::kl).
#[no_mangle]
pub unsafe extern "C" fn lk_vae_kl(stats: *const f32, eps: *const f32, dz: *const f32, dstats: *mut f32, rows: usize, latent: usize, weight: f32) -> f64 {
    let n = rows * latent;
    if dstats.is_null() {
        return gaussian::kl(s(stats, 2 * n), &[], &[], None, latent, weight);
    }
    gaussian::kl(s(stats, 2 * n), s(eps, n), s(dz, n), Some(sm(dstats, 2 * n)), latent, weight)
}

/// KL(q ‖ N(0, I)) of each row into `sums` and its gradient with a weight per row (gaussian::kl_rows).
#[no_mangle]
pub unsafe extern "C" fn lk_vae_kl_rows(stats: *const f32, eps: *const f32, dz: *const f32, dstats: *mut f32, rows: usize, latent: usize, weights: *const f32, sums: *mut f64) {
    let n = rows * latent;
    gaussian::kl_rows(s(stats, 2 * n), s(eps, n), s(dz, n), sm(dstats, 2 * n), latent, s(weights, rows), from_raw_parts_mut(sums, rows));
}

/// weight · mean over rows of −log p(x|out) under likelihood `kind`; its gradient into a
/// non-null `grad` (rows × the output width).
#[no_mangle]
pub unsafe extern "C" fn lk_likelihood_nll(kind: u32, x: *const f32, out: *const f32, rows: usize, d: usize, log_var: f32, grad: *mut f32, weight: f32) -> f64 {
    let kind = code(Likelihood::from_code(kind));
    let w = gaussian::output_width(kind, d) * rows;
    let g = if grad.is_null() { None } else { Some(sm(grad, w)) };
    gaussian::nll::<Native>(kind, s(x, rows * d), s(out, w), d, log_var, g, weight)
}

/// Rows r0..r1 of the reconstruction term over `rows` rows: −log p(x_r | out_r) into sums[r] (f64)
/// and, into a non-null `grad`, its gradient scaled by weight / rows, as lk_likelihood_nll
/// computes them; the caller adds sums[0..rows] in row order and scales by weight / rows, which
/// gives lk_likelihood_nll's bits on any split. A non-null `row_weights` (rows f32) weighs each
/// row's gradient; the sums stay unweighted, for the caller to weigh (gaussian::nll_rows). `pack` and `pack_a` are unused: the signature is
/// the pool's column-split one.
#[no_mangle]
pub unsafe extern "C" fn lk_likelihood_nll_rows_columns(
    kind: u32, x: *const f32, out: *const f32, rows: usize, d: usize, log_var: f32, grad: *mut f32, weight: f32, row_weights: *const f32, sums: *mut f64, r0: usize, r1: usize,
    _pack: *mut f32, _pack_a: u32,
) {
    let kind = code(Likelihood::from_code(kind));
    assert!(r0 <= r1 && r1 <= rows);
    let n = r1 - r0;
    if n == 0 {
        return;
    }
    let w = gaussian::output_width(kind, d);
    let g = if grad.is_null() { None } else { Some(sm(grad.add(r0 * w), n * w)) };
    let q = if row_weights.is_null() { None } else { Some(s(row_weights.add(r0), n)) };
    gaussian::nll_rows::<Native>(kind, s(x.add(r0 * d), n * d), s(out.add(r0 * w), n * w), d, log_var, g, weight, rows, q, from_raw_parts_mut(sums.add(r0), n));
}

/// Samples r0..r1 of Burda et al.'s log importance weights, of `rows` samples in all, `per_input`
/// per input row, the first being sample `lead` of its input; into w[r0..r1] (f64). Each sample's
/// weight depends on its own row only, so any split gives the same bits. `pack` and `pack_a` are
/// unused: the signature is the pool's column-split one.
#[no_mangle]
pub unsafe extern "C" fn lk_importance_log_weights_columns(
    kind: u32, x: *const f32, d: usize, log_var: f32, out: *const f32, stats: *const f32, z: *const f32, eps: *const f32, latent: usize, per_input: usize, lead: usize,
    rows: usize, w: *mut f64, r0: usize, r1: usize, _pack: *mut f32, _pack_a: u32,
) {
    let kind = code(Likelihood::from_code(kind));
    assert!(r0 <= r1 && r1 <= rows && per_input > 0 && lead < per_input);
    let n = r1 - r0;
    if n == 0 {
        return;
    }
    let width = gaussian::output_width(kind, d);
    // The part's first sample: sample (lead + r0) % per_input of input (lead + r0) / per_input.
    let first = (lead + r0) / per_input;
    let part_lead = (lead + r0) % per_input;
    let inputs = (part_lead + n + per_input - 1) / per_input;
    gaussian::importance_log_weights::<Native>(
        kind, s(x.add(first * d), inputs * d), d, log_var, s(out.add(r0 * width), n * width), s(stats.add(first * 2 * latent), inputs * 2 * latent),
        s(z.add(r0 * latent), n * latent), s(eps.add(r0 * latent), n * latent), latent, per_input, part_lead, from_raw_parts_mut(w.add(r0), n),
    );
}

/// ln((1/n) Σ e^{w_i}) over w[n] (f64), stable.
#[no_mangle]
pub unsafe extern "C" fn lk_log_mean_exp(w: *const f64, n: usize) -> f64 {
    gaussian::log_mean_exp(if n == 0 { &[] } else { from_raw_parts(w, n) })
}

unsafe fn su<'a>(p: *const u32, n: usize) -> &'a [u32] {
    if n == 0 { &[] } else { from_raw_parts(p, n) }
}

/// Column sums (f64) and nonzero counts of x[rows×d], accumulated onto
/// sum[d] and nonzeros[d]; returns the first non-finite index, or −1 (then
/// nothing is accumulated).
#[no_mangle]
pub unsafe extern "C" fn lk_column_stats(x: *const f32, rows: usize, d: usize, sum: *mut f64, nonzeros: *mut u32) -> i32 {
    let x = s(x, rows * d);
    if let Some(i) = loss::first_nonfinite::<Native>(x) {
        return i as i32;
    }
    linalg::column_stats(x, rows, d, from_raw_parts_mut(sum, d), from_raw_parts_mut(nonzeros, d));
    -1
}

/// One chunk x[rows×d] of the split covariance (see linalg::covariance), all but the dense
/// block's syrk: the shifted dense panel (`panel`: rows·nd floats; `row_buf`: d) and ms[ns×d]
/// ← or += the sparse columns' rows. Threads then split lk_syrk_upper_columns over the panel.
#[no_mangle]
pub unsafe extern "C" fn lk_covariance_prepare(
    x: *const f32, rows: usize, d: usize, dense: *const u32, nd: usize, sparse: *const u32, ns: usize,
    shift: *const f32, panel: *mut f32, row_buf: *mut f32, ms: *mut f32, accumulate: u32,
) {
    let x = s(x, rows * d);
    let (dense, sparse, shift) = (su(dense, nd), su(sparse, ns), s(shift, d));
    let ms = sm(ms, ns * d);
    if accumulate == 0 {
        ms.iter_mut().for_each(|v| *v = 0.0);
    }
    if nd > 0 {
        linalg::gather_shifted(x, rows, d, dense, shift, sm(panel, rows * nd));
    }
    if ns > 0 {
        linalg::sparse_rows_accumulate::<Native>(x, rows, d, sparse, shift, sm(row_buf, d), ms);
    }
}

/// Columns j0..j1 (j0 a multiple of 8) of the upper triangle of md[nd×nd] ← panelᵀ·panel
/// (+ md when `accumulate`), panel being rows × nd, with packing space `pack` (null: the static
/// one); its driver packs the panel per part (`pack_a` is unused).
#[no_mangle]
pub unsafe extern "C" fn lk_syrk_upper_columns(panel: *const f32, rows: usize, nd: usize, md: *mut f32, accumulate: u32, j0: usize, j1: usize, pack: *mut f32, _pack_a: u32) {
    linalg::syrk_upper_columns::<Native>(s(panel, rows * nd), rows, nd, sm(md, nd * nd), accumulate != 0, j0..j1, &mut scratch_at(pack, PackA::Blocks));
}

/// c[d×d] ← (M − n·δδᵀ)/(n − 1) from the chunks' md and ms; δ[d] in f64.
#[no_mangle]
pub unsafe extern "C" fn lk_covariance_assemble(md: *const f32, dense: *const u32, nd: usize, ms: *const f32, sparse: *const u32, ns: usize, delta: *const f64, n: usize, d: usize, c: *mut f32) {
    linalg::covariance_assemble(s(md, nd * nd), su(dense, nd), s(ms, ns * d), su(sparse, ns), from_raw_parts(delta, d), n, d, sm(c, d * d));
}

/// Top-k eigenpairs of the symmetric c[d×d] by Lanczos (see linalg::lanczos):
/// returns the steps used, negated if the tolerance was not met within
/// max_steps, 0 if out of memory.
#[no_mangle]
pub unsafe extern "C" fn lk_top_eigen(c: *const f32, d: usize, k: usize, state: *mut Xoshiro128ss, tol: f64, max_steps: usize, vals: *mut f32, vecs: *mut f32) -> i32 {
    match linalg::lanczos_top_eigen::<Native>(s(c, d * d), d, k, &mut *state, tol, max_steps, sm(vals, k), sm(vecs, d * k), &mut scratch_at(core::ptr::null_mut(), PackA::Blocks)) {
        None => 0,
        Some(r) if r.converged => r.steps as i32,
        Some(r) => -(r.steps as i32),
    }
}

/// Eigen-decomposition of the symmetric f64 matrix a[p×p] (destroyed): eigenvalues
/// descending in vals, eigenvectors as the columns of vecs[p×p].
#[no_mangle]
pub unsafe extern "C" fn lk_symmetric_eigen(a: *mut f64, p: usize, vals: *mut f64, vecs: *mut f64) {
    if p == 0 {
        return;
    }
    linalg::symmetric_eigen(from_raw_parts_mut(a, p * p), p, from_raw_parts_mut(vals, p), from_raw_parts_mut(vecs, p * p));
}

/// Inverted dropout: mask[i] ∈ {0, 1/(1 − rate)}, y[0..n] ← y ⊙ mask.
#[no_mangle]
pub unsafe extern "C" fn lk_rng_dropout(state: *mut Xoshiro128ss, y: *mut f32, mask: *mut f32, n: usize, rate: f32) {
    (*state).dropout(sm(y, n), sm(mask, n), rate);
}

/// x[0..n] ← x ⊙ m (the backward of dropout: gradients pass where units were kept).
#[no_mangle]
pub unsafe extern "C" fn lk_mul(x: *mut f32, m: *const f32, n: usize) {
    for (v, &k) in sm(x, n).iter_mut().zip(s(m, n)) {
        *v *= k;
    }
}
