//! Convolutions, transposed convolutions, batch and weight normalisation: forward against
//! naive f64 references, gradients against f64 central differences of those references, NaN
//! guard bands past every output, and the same bits whatever split of the images threads would
//! use (the dense kernels' column splits are tested in kernels.rs).

use latentkit_kernels::activation::Activation;
use latentkit_kernels::conv::{self, Geometry};
use latentkit_kernels::dense;
use latentkit_kernels::gemm::params::{PACK_A_LEN, PACK_B_LEN};
use latentkit_kernels::gemm::Scratch;
use latentkit_kernels::norm::batch_norm::{self, Params, Shape};
use latentkit_kernels::norm::weight_norm::{self, Units};
use latentkit_kernels::simd::Native;

mod common;
use common::{act_f64, values};

const GUARD: usize = 5;


/// `n` zeros (or `fill`) followed by a NaN guard band.
fn guarded(n: usize, fill: f32) -> Vec<f32> {
    let mut v = vec![fill; n + GUARD];
    v[n..].iter_mut().for_each(|x| *x = f32::NAN);
    v
}

fn check_guard(v: &[f32], n: usize, what: &str) {
    assert!(v[n..].iter().all(|x| x.is_nan()), "{what}: wrote past its {n} elements");
}

fn close(got: &[f32], want: &[f64], rtol: f64, atol: f64, what: &str) {
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(((g as f64) - w).abs() <= atol + rtol * w.abs(), "{what}: index {i} of {}: got {g}, want {w}", want.len());
    }
}


/// ∂/∂θ_i of f by central differences in f64, for every i.
fn central(theta: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let mut t = theta.to_vec();
    (0..theta.len())
        .map(|i| {
            let h = 1e-6 * theta[i].abs().max(1.0);
            t[i] = theta[i] + h;
            let up = f(&t);
            t[i] = theta[i] - h;
            let down = f(&t);
            t[i] = theta[i];
            (up - down) / (2.0 * h)
        })
        .collect()
}

fn f64s(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

/// Every (image, output channel, output pixel, input pixel, weight) product of the naive
/// convolution, by index: f(y_index, x_index, w_index) for the taps inside the image.
fn for_each_tap(g: &Geometry, n: usize, mut f: impl FnMut(usize, usize, usize)) {
    let (kh, kw) = g.kernel;
    for im in 0..n {
        for o in 0..g.outputs {
            for oy in 0..g.out_height {
                for ox in 0..g.out_width {
                    for c in 0..g.channels {
                        for i in 0..kh {
                            for j in 0..kw {
                                let iy = (oy * g.stride.0 + i) as isize - g.padding.0 as isize;
                                let ix = (ox * g.stride.1 + j) as isize - g.padding.1 as isize;
                                if iy < 0 || ix < 0 || iy >= g.height as isize || ix >= g.width as isize {
                                    continue;
                                }
                                let y = ((im * g.outputs + o) * g.out_height + oy) * g.out_width + ox;
                                let x = ((im * g.channels + c) * g.height + iy as usize) * g.width + ix as usize;
                                f(y, x, ((o * g.channels + c) * kh + i) * kw + j);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The naive convolution: y[n,o,oy,ox] = f(b[o] + Σ W[o,c,i,j]·x[n,c,oy·sh−ph+i, ox·sw−pw+j]).
fn conv64(g: &Geometry, n: usize, x: &[f64], w: &[f64], b: &[f64], act: Activation) -> Vec<f64> {
    let p = g.pixels();
    let mut y: Vec<f64> = (0..n * g.output_len()).map(|at| b[at / p % g.outputs]).collect();
    for_each_tap(g, n, |yi, xi, wi| y[yi] += w[wi] * x[xi]);
    y.iter().map(|&z| act_f64(act, 0.2, z)).collect()
}

/// The naive transposed convolution of the same geometry: from N×O×OH×OW to N×C×H×W,
/// y[n,c,iy,ix] = f(b[c] + Σ x[n,o,oy,ox]·W[o,c,i,j] over the taps landing on (iy, ix)).
fn conv_transpose64(g: &Geometry, n: usize, x: &[f64], w: &[f64], b: &[f64], act: Activation) -> Vec<f64> {
    let hw = g.height * g.width;
    let mut y: Vec<f64> = (0..n * g.input_len()).map(|at| b[at / hw % g.channels]).collect();
    for_each_tap(g, n, |xi, yi, wi| y[yi] += x[xi] * w[wi]);
    y.iter().map(|&z| act_f64(act, 0.2, z)).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// (C, H, W, O, kh, kw, sh, sw, ph, pw): odd sizes, strides, paddings, a kernel as large as
/// the padded input, 1×1, channel counts around the GEMM's 4- and 8-wide tiles.
const GEOMETRIES: &[(usize, usize, usize, usize, usize, usize, usize, usize, usize, usize)] = &[
    (1, 5, 5, 2, 3, 3, 1, 1, 0, 0),
    (2, 7, 6, 3, 3, 2, 2, 1, 1, 0),
    (3, 8, 8, 9, 4, 4, 2, 2, 1, 1),
    (2, 5, 5, 3, 5, 5, 1, 1, 2, 2),
    (5, 4, 4, 1, 1, 1, 1, 1, 0, 0),
    (2, 9, 7, 5, 3, 3, 3, 2, 1, 1),
    (1, 3, 3, 4, 5, 5, 1, 1, 1, 1),
    // Padding wider than the kernel: whole kernel rows and columns fall in the padding.
    (2, 4, 5, 3, 2, 2, 1, 2, 3, 3),
];

fn geometry(t: (usize, usize, usize, usize, usize, usize, usize, usize, usize, usize)) -> Geometry {
    let (c, h, w, o, kh, kw, sh, sw, ph, pw) = t;
    Geometry {
        channels: c,
        height: h,
        width: w,
        outputs: o,
        out_height: Geometry::output_size(h, kh, sh, ph),
        out_width: Geometry::output_size(w, kw, sw, pw),
        kernel: (kh, kw),
        stride: (sh, sw),
        padding: (ph, pw),
    }
}

fn scratch_vecs() -> (Vec<f32>, Vec<f32>) {
    (vec![0.0; PACK_A_LEN], vec![0.0; PACK_B_LEN])
}

// The layers as ts/nn/layers/conv2d.ts and conv-transpose2d.ts compose the kernels.

/// A convolution's forward: (y NCHW, the patches, the pre-transpose rows z = f(patches·Wᵀ + b)).
fn conv_forward(g: &Geometry, n: usize, x: &[f32], w: &[f32], b: &[f32], act: Activation) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let (pa, pb) = &mut scratch_vecs();
    let mut sc = Scratch::new(pa, pb);
    let (p, k, o) = (g.pixels(), g.patch(), g.outputs);
    let mut patches = guarded(n * g.patches_len(), 0.0);
    conv::im2row_images::<Native>(g, x, &mut patches, 0..n);
    check_guard(&patches, n * g.patches_len(), "patches");
    let mut z = vec![0f32; n * p * o];
    dense::dense_forward::<Native>(n * p, k, o, &patches, w, Some(b), &mut z, act, 0.2, true, &mut sc);
    let mut y = guarded(n * g.output_len(), 0.0);
    conv::transpose_images(p, o, &z, &mut y, 0..n);
    check_guard(&y, n * g.output_len(), "y");
    (y, patches, z)
}

/// A convolution's backward from dy: (dx, dW added to `dw`, db added to `db`).
fn conv_backward(g: &Geometry, n: usize, patches: &mut [f32], z: &[f32], w: &[f32], dy: &[f32], dw: &mut [f32], db: &mut [f32], act: Activation) -> Vec<f32> {
    let (pa, pb) = &mut scratch_vecs();
    let mut sc = Scratch::new(pa, pb);
    let (p, k, o) = (g.pixels(), g.patch(), g.outputs);
    let mut dz = vec![0f32; n * p * o];
    conv::transpose_images(o, p, dy, &mut dz, 0..n);
    dense::dense_backward_params_columns::<Native>(n * p, k, o, patches, z, &mut dz, Some((dw, Some(db))), act, 0.2, true, 0..o, &mut sc);
    // The patches' gradient overwrites the patches, as the layer does.
    dense::dense_backward_input_columns::<Native>(n * p, k, o, &dz, w, patches, true, 0..k, &mut sc);
    let mut dx = guarded(n * g.input_len(), f32::NAN);
    conv::row2im_images::<Native>(g, patches, &mut dx, None, Activation::Linear, 0.0, 0..n);
    check_guard(&dx, n * g.input_len(), "dx");
    dx
}

/// A transposed convolution's forward from x (N×O×OH×OW): (y N×C×H×W, x as rows).
fn conv_transpose_forward(g: &Geometry, n: usize, x: &[f32], w: &[f32], b: &[f32], act: Activation) -> (Vec<f32>, Vec<f32>) {
    let (pa, pb) = &mut scratch_vecs();
    let mut sc = Scratch::new(pa, pb);
    let (p, k, o) = (g.pixels(), g.patch(), g.outputs);
    let mut xr = vec![0f32; n * p * o];
    conv::transpose_images(o, p, x, &mut xr, 0..n);
    let mut patches = vec![0f32; n * g.patches_len()];
    dense::dense_backward_input_columns::<Native>(n * p, k, o, &xr, w, &mut patches, true, 0..k, &mut sc);
    let mut y = guarded(n * g.input_len(), 0.0);
    conv::row2im_images::<Native>(g, &patches, &mut y, Some(b), act, 0.2, 0..n);
    check_guard(&y, n * g.input_len(), "y");
    (y, xr)
}

/// A transposed convolution's backward from dy: dx, with dW and db added.
fn conv_transpose_backward(g: &Geometry, n: usize, xr: &[f32], w: &[f32], y: &[f32], dy: &[f32], dw: &mut [f32], db: &mut [f32], act: Activation) -> Vec<f32> {
    let (pa, pb) = &mut scratch_vecs();
    let mut sc = Scratch::new(pa, pb);
    let (p, k, o) = (g.pixels(), g.patch(), g.outputs);
    let mut dz = dy.to_vec();
    conv::bias_activation_backward_channels::<Native>(n, g.channels, g.height * g.width, y, &mut dz, Some(db), act, 0.2, 0..g.channels);
    let mut patches = vec![0f32; n * g.patches_len()];
    conv::im2row_images::<Native>(g, &dz, &mut patches, 0..n);
    let same = patches.clone();
    dense::dense_backward_params_columns::<Native>(n * p, o, k, xr, &same, &mut patches, Some((dw, None)), Activation::Linear, 0.0, false, 0..k, &mut sc);
    let mut dxr = vec![0f32; n * p * o];
    dense::dense_forward::<Native>(n * p, k, o, &patches, w, None, &mut dxr, Activation::Linear, 0.0, true, &mut sc);
    let mut dx = guarded(n * g.output_len(), 0.0);
    conv::transpose_images(p, o, &dxr, &mut dx, 0..n);
    check_guard(&dx, n * g.output_len(), "dx");
    dx
}

/// Four arrays of seeded values, of these lengths.
fn seeded(lens: [usize; 4], seed: u64) -> [Vec<f32>; 4] {
    lens.map(|n| values(n, seed * 4 + n as u64))
}

/// A layer's output and gradients (dx, and dW and db accumulated onto `start`) against its f64
/// reference and central differences of Σ reference·up, each named in failures.
fn check_layer(what: &str, (x, w, b, up): (&[f32], &[f32], &[f32], &[f32]), start: f32, reference: impl Fn(&[f64], &[f64], &[f64]) -> Vec<f64>, (y, dx, dw, db): (&[f32], &[f32], &[f32], &[f32])) {
    let (x64, w64, b64, up64) = (f64s(x), f64s(w), f64s(b), f64s(up));
    close(y, &reference(&x64, &w64, &b64), 1e-5, 1e-5, &format!("{what} forward"));
    let loss = |x: &[f64], w: &[f64], b: &[f64]| dot(&reference(x, w, b), &up64);
    let shift = |d: Vec<f64>| d.iter().map(|v| v + start as f64).collect::<Vec<f64>>();
    close(&dx[..x.len()], &central(&x64, |v| loss(v, &w64, &b64)), 1e-4, 1e-4, &format!("{what} dx"));
    close(&dw[..w.len()], &shift(central(&w64, |v| loss(&x64, v, &b64))), 1e-4, 1e-4, &format!("{what} dW"));
    close(&db[..b.len()], &shift(central(&b64, |v| loss(&x64, &w64, v))), 1e-4, 1e-4, &format!("{what} db"));
}

#[test]
fn convolution_forward_and_gradients_match_f64_central_differences() {
    let images = 3;
    for (gi, &t) in GEOMETRIES.iter().enumerate() {
        let g = geometry(t);
        for act in [Activation::Linear, Activation::Tanh, Activation::LeakyRelu] {
            let what = format!("conv {g:?} {act:?}");
            let k = g.patch();
            let [x, w, b, up] = seeded([images * g.input_len(), g.outputs * k, g.outputs, images * g.output_len()], 10 + gi as u64);
            let (y, mut patches, z) = conv_forward(&g, images, &x, &w, &b, act);
            let (mut dw, mut db) = (guarded(g.outputs * k, 0.5), guarded(g.outputs, 0.5));
            let dx = conv_backward(&g, images, &mut patches, &z, &w, &up, &mut dw, &mut db, act);
            check_guard(&db, g.outputs, &format!("{what} db"));
            check_guard(&dw, g.outputs * k, &format!("{what} dW"));
            check_layer(&what, (&x, &w, &b, &up), 0.5, |x, w, b| conv64(&g, images, x, w, b, act), (&y, &dx, &dw, &db));
        }
    }
}

#[test]
fn transposed_convolution_forward_and_gradients_match_f64_central_differences() {
    let images = 2;
    for (gi, &t) in GEOMETRIES.iter().enumerate() {
        let g = geometry(t);
        let act = Activation::Tanh;
        let what = format!("transposed conv {g:?}");
        let k = g.patch();
        // Its input is the O×OH×OW side, its output the C×H×W side.
        let [x, w, b, up] = seeded([images * g.output_len(), g.outputs * k, g.channels, images * g.input_len()], 50 + gi as u64);
        let (y, xr) = conv_transpose_forward(&g, images, &x, &w, &b, act);
        let (mut dw, mut db) = (guarded(g.outputs * k, 0.0), guarded(g.channels, 0.0));
        let dx = conv_transpose_backward(&g, images, &xr, &w, &y, &up, &mut dw, &mut db, act);
        check_guard(&dw, g.outputs * k, &what);
        check_guard(&db, g.channels, &what);
        check_layer(&what, (&x, &w, &b, &up), 0.0, |x, w, b| conv_transpose64(&g, images, x, w, b, act), (&y, &dx, &dw, &db));
    }
}

#[test]
fn image_parts_give_the_bits_of_one_call() {
    let g = geometry((3, 8, 8, 9, 4, 4, 2, 2, 1, 1));
    let images = 5;
    let x = values(images * g.input_len(), 1);
    let rows = values(images * g.patches_len(), 2);
    let b = values(g.channels, 3);
    let run = |splits: &[usize]| {
        let mut patches = vec![0f32; images * g.patches_len()];
        let mut back = vec![0f32; images * g.input_len()];
        let mut t = vec![0f32; images * g.input_len()];
        let mut u = vec![0f32; images * g.input_len()];
        for win in splits.windows(2) {
            conv::im2row_images::<Native>(&g, &x, &mut patches, win[0]..win[1]);
            conv::row2im_images::<Native>(&g, &rows, &mut back, Some(&b), Activation::Tanh, 0.0, win[0]..win[1]);
            conv::transpose_images(g.channels, g.height * g.width, &x, &mut t, win[0]..win[1]);
            conv::transpose_images(g.height * g.width, g.channels, &t, &mut u, win[0]..win[1]);
        }
        (patches, back, t, u)
    };
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let whole = run(&[0, images]);
    let parts = run(&[0, 2, 3, images]);
    assert_eq!(bits(&whole.0), bits(&parts.0), "patches");
    assert_eq!(bits(&whole.1), bits(&parts.1), "row2im");
    assert_eq!(bits(&whole.2), bits(&parts.2), "rows");
    assert_eq!(bits(&whole.3), bits(&x), "rows back to NCHW");
}

/// Batch norm of N×C×S in f64: (y, the batch mean, the biased and unbiased variances).
fn batch_norm64(n: usize, c: usize, s: usize, x: &[f64], gamma: &[f64], beta: &[f64], stats: Option<(&[f64], &[f64])>, act: Activation) -> Vec<f64> {
    let m = (n * s) as f64;
    let mut y = vec![0f64; n * c * s];
    for ch in 0..c {
        let idx = |im: usize, p: usize| (im * c + ch) * s + p;
        let (mean, var) = match stats {
            Some((rm, rv)) => (rm[ch], rv[ch]),
            None => {
                let mean = (0..n).flat_map(|im| (0..s).map(move |p| (im, p))).map(|(im, p)| x[idx(im, p)]).sum::<f64>() / m;
                let var = (0..n).flat_map(|im| (0..s).map(move |p| (im, p))).map(|(im, p)| (x[idx(im, p)] - mean).powi(2)).sum::<f64>() / m;
                (mean, var)
            }
        };
        for im in 0..n {
            for p in 0..s {
                y[idx(im, p)] = act_f64(act, 0.2, gamma[ch] * (x[idx(im, p)] - mean) / (var + 1e-5).sqrt() + beta[ch]);
            }
        }
    }
    y
}

#[test]
fn batch_norm_matches_f64_central_differences_in_both_modes() {
    for &(n, c, s) in &[(4, 3, 1), (2, 5, 6), (7, 2, 9), (3, 9, 4)] {
        for train in [true, false] {
            let what = format!("batch norm {n}×{c}×{s} train {train}");
            let total = n * c * s;
            // Offsets and scales per channel, as real activations have.
            let x: Vec<f32> = values(total, 1).iter().enumerate().map(|(i, v)| v * 2.0 + ((i / s) % c) as f32).collect();
            let gamma: Vec<f32> = values(c, 2).iter().map(|v| 1.0 + 0.5 * v).collect();
            let beta = values(c, 3);
            let up = values(total, 4);
            let rm0: Vec<f32> = values(c, 5);
            let rv0: Vec<f32> = values(c, 6).iter().map(|v| 1.5 + v).collect();
            let (mut rm, mut rv) = (rm0.clone(), rv0.clone());
            let (mut mean, mut inv) = (guarded(c, 0.0), guarded(c, 0.0));
            let mut y = guarded(total, 0.0);
            let shape = Shape { images: n, channels: c, size: s };
            let act = Activation::Tanh;
            let p = Params { gamma: &gamma, beta: &beta, mean: &mut mean, inv_std: &mut inv, running_mean: &mut rm, running_var: &mut rv };
            batch_norm::batch_norm_forward_channels::<Native>(shape, &x, &mut y, p, 0.1, 1e-5, train, act, 0.2, 0..c);
            check_guard(&y, total, &what);
            let (x64, g64, b64, up64) = (f64s(&x), f64s(&gamma), f64s(&beta), f64s(&up));
            let (rm64, rv64) = (f64s(&rm0), f64s(&rv0));
            let stats = if train { None } else { Some((&rm64[..], &rv64[..])) };
            close(&y, &batch_norm64(n, c, s, &x64, &g64, &b64, stats, act), 1e-5, 1e-5, &format!("{what} forward"));
            if train {
                // PyTorch's running statistics: momentum 0.1, the unbiased variance.
                let m = (n * s) as f64;
                for ch in 0..c {
                    let vals: Vec<f64> = (0..n).flat_map(|im| (0..s).map(move |p| (im, p))).map(|(im, p)| x64[(im * c + ch) * s + p]).collect();
                    let mu = vals.iter().sum::<f64>() / m;
                    let unbiased = vals.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / (m - 1.0);
                    close(&rm[ch..ch + 1], &[0.9 * rm64[ch] + 0.1 * mu], 1e-6, 1e-6, &format!("{what} running mean"));
                    close(&rv[ch..ch + 1], &[0.9 * rv64[ch] + 0.1 * unbiased], 1e-6, 1e-6, &format!("{what} running var"));
                }
            } else {
                assert_eq!(rm, rm0, "{what}: evaluation moved the running mean");
                assert_eq!(rv, rv0);
            }
            let mut dy = up.clone();
            let (mut dg, mut dbeta) = (guarded(c, 0.25), guarded(c, 0.25));
            let mut dx = guarded(total, f32::NAN);
            batch_norm::batch_norm_backward_channels::<Native>(shape, &x, &y, &mut dy, &gamma, &mean, &inv, Some((&mut dg, &mut dbeta)), Some(&mut dx), train, act, 0.2, 0..c);
            check_guard(&dx, total, &what);
            check_guard(&dg, c, &what);
            let loss = |x: &[f64], g: &[f64], b: &[f64]| dot(&batch_norm64(n, c, s, x, g, b, stats, act), &up64);
            close(&dx[..total], &central(&x64, |v| loss(v, &g64, &b64)), 1e-4, 1e-4, &format!("{what} dx"));
            let want_dg: Vec<f64> = central(&g64, |v| loss(&x64, v, &b64)).iter().map(|d| d + 0.25).collect();
            let want_db: Vec<f64> = central(&b64, |v| loss(&x64, &g64, v)).iter().map(|d| d + 0.25).collect();
            close(&dg[..c], &want_dg, 1e-4, 1e-4, &format!("{what} dγ"));
            close(&dbeta[..c], &want_db, 1e-4, 1e-4, &format!("{what} dβ"));
        }
    }
}

#[test]
fn weight_norm_matches_f64_central_differences() {
    // Units as rows ([out, in]) and as columns (latentkit's dense [in × out]).
    for &(units, len, rows) in &[(3, 5, true), (4, 7, false), (1, 9, true)] {
        let l = if rows { Units { units, len, unit_stride: len, elem_stride: 1 } } else { Units { units, len, unit_stride: 1, elem_stride: units } };
        let what = format!("weight norm {units}×{len} rows {rows}");
        let v = values(units * len, 1);
        let g: Vec<f32> = values(units, 2).iter().map(|x| x + 1.5).collect();
        let up = values(units * len, 3);
        let (mut w, mut norms) = (guarded(units * len, 0.0), guarded(units, 0.0));
        weight_norm::weight_norm_forward(l, &v, &g, &mut w, &mut norms, 0..units);
        check_guard(&w, units * len, &what);
        let at = |u: usize, e: usize| if rows { u * len + e } else { e * units + u };
        let w64 = |v: &[f64], g: &[f64]| {
            let mut w = vec![0f64; units * len];
            for u in 0..units {
                let norm = (0..len).map(|e| v[at(u, e)].powi(2)).sum::<f64>().sqrt();
                for e in 0..len {
                    w[at(u, e)] = g[u] * v[at(u, e)] / norm;
                }
            }
            w
        };
        let (v64, g64, up64) = (f64s(&v), f64s(&g), f64s(&up));
        close(&w[..units * len], &w64(&v64, &g64), 1e-6, 1e-6, &format!("{what} forward"));
        let (mut dv, mut dg) = (guarded(units * len, 0.0), guarded(units, 0.0));
        weight_norm::weight_norm_backward(l, &v, &g, &norms, &up, &mut dv, &mut dg, 0..units);
        check_guard(&dv, units * len, &what);
        close(&dv[..units * len], &central(&v64, |x| dot(&w64(x, &g64), &up64)), 1e-4, 1e-5, &format!("{what} dv"));
        close(&dg[..units], &central(&g64, |x| dot(&w64(&v64, x), &up64)), 1e-4, 1e-5, &format!("{what} dg"));
    }
}

#[test]
fn weight_norm_dense_layout_gives_the_bits_of_the_unit_by_unit_sums() {
    // latentkit's dense [in × out] (units side by side) runs row by row over blocks of 64 units;
    // every unit's f64 sums must still add in element order: the reference below walks unit by
    // unit, as the kernel does for any other layout. Whole and in two parts (threads); sizes
    // around the block, NaN guard bands.
    for &units in &[2usize, 3, 63, 64, 65, 130] {
        for &len in &[1usize, 5, 33] {
            let l = Units { units, len, unit_stride: 1, elem_stride: units };
            let what = format!("weight norm, dense layout, {units} units of {len}");
            let n = units * len;
            let v = values(n, 7);
            let g: Vec<f32> = values(units, 8).iter().map(|x| x + 1.5).collect();
            let up = values(n, 9);
            let (mut w_ref, mut norms_ref) = (vec![0f32; n], vec![0f32; units]);
            let (mut dv_ref, mut dg_ref) = (values(n, 10), values(units, 11));
            for u in 0..units {
                let sq = (0..len).fold(0f64, |a, e| a + v[e * units + u] as f64 * v[e * units + u] as f64);
                let norm = sq.sqrt();
                norms_ref[u] = norm as f32;
                let scale = (g[u] as f64 / norm) as f32;
                for e in 0..len {
                    w_ref[e * units + u] = scale * v[e * units + u];
                }
                let dot = (0..len).fold(0f64, |a, e| a + up[e * units + u] as f64 * v[e * units + u] as f64);
                let norm = norms_ref[u] as f64;
                let grad_g = dot / norm;
                dg_ref[u] += grad_g as f32;
                let (scale, along) = ((g[u] as f64 / norm) as f32, (grad_g / norm) as f32);
                for e in 0..len {
                    let i = e * units + u;
                    dv_ref[i] += scale * (up[i] - along * v[i]);
                }
            }
            let (mut w, mut norms) = (guarded(n, 0.0), guarded(units, 0.0));
            weight_norm::weight_norm_forward(l, &v, &g, &mut w, &mut norms, 0..units);
            check_guard(&w, n, &what);
            check_guard(&norms, units, &what);
            let (mut dv, mut dg) = (guarded(n, 0.0), guarded(units, 0.0));
            dv[..n].copy_from_slice(&values(n, 10));
            dg[..units].copy_from_slice(&values(units, 11));
            weight_norm::weight_norm_backward(l, &v, &g, &norms, &up, &mut dv, &mut dg, 0..units);
            check_guard(&dv, n, &what);
            check_guard(&dg, units, &what);
            // In two parts, as two threads share the units (the cut off the 64-unit blocks).
            let cut = units / 3 + 1;
            let (mut w2, mut norms2) = (guarded(n, 0.0), guarded(units, 0.0));
            let (mut dv2, mut dg2) = (guarded(n, 0.0), guarded(units, 0.0));
            dv2[..n].copy_from_slice(&values(n, 10));
            dg2[..units].copy_from_slice(&values(units, 11));
            for part in [0..cut, cut..units] {
                weight_norm::weight_norm_forward(l, &v, &g, &mut w2, &mut norms2, part.clone());
                weight_norm::weight_norm_backward(l, &v, &g, &norms_ref, &up, &mut dv2, &mut dg2, part);
            }
            for (name, got, want) in [
                ("w", &w[..n], &w_ref[..]), ("norms", &norms[..units], &norms_ref[..]), ("dv", &dv[..n], &dv_ref[..]), ("dg", &dg[..units], &dg_ref[..]),
                ("w in parts", &w2[..n], &w_ref[..]), ("norms in parts", &norms2[..units], &norms_ref[..]), ("dv in parts", &dv2[..n], &dv_ref[..]), ("dg in parts", &dg2[..units], &dg_ref[..]),
            ] {
                if let Some(i) = (0..want.len()).find(|&i| got[i].to_bits() != want[i].to_bits()) {
                    panic!("{what}: {name}[{i}] (unit {}, element {}) is {}, unit by unit {}", i % units, i / units, got[i], want[i]);
                }
            }
        }
    }
}
