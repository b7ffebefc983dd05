//! Weight normalisation (Salimans & Kingma 2016): w = g·v/‖v‖, one g and one norm per unit.
//!
//! A unit is the slice PyTorch's `weight_norm(dim=0)` normalises: an output row of a Linear
//! `[out, in]` or a Conv2d `[out, in, kh, kw]`, an input channel of a ConvTranspose2d
//! `[in, out, kh, kw]`. Unit u's elements sit at u·`unit_stride` + e·`elem_stride`, e < `len`,
//! so the same kernels serve latentkit's dense `[in × out]` layout (unit stride 1, element
//! stride out). Norms are f64 sums in element order.

use core::ops::Range;

/// The layout of v (and w, dw, dv): `units` slices of `len` elements.
#[derive(Copy, Clone, Debug)]
pub struct Units {
    pub units: usize,
    pub len: usize,
    pub unit_stride: usize,
    pub elem_stride: usize,
}

impl Units {
    fn at(&self, u: usize, e: usize) -> usize {
        u * self.unit_stride + e * self.elem_stride
    }

    fn extent(&self) -> usize {
        if self.units == 0 || self.len == 0 { 0 } else { self.at(self.units - 1, self.len - 1) + 1 }
    }
}

/// Units side by side in memory (latentkit's dense `[in × out]`: unit stride 1) are walked a
/// block of this many at a time, row by row: memory is read in order, and each unit's f64 sum
/// still adds its elements in element order, so the bits are those of the unit-by-unit loop.
const BLOCK: usize = 64;

/// w ← g·v/‖v‖ for the units in `part` (all of them: 0..units); norms[u] ← ‖v_u‖ (kept for the
/// backward pass). Each unit is computed alone, so threads may share the units in parts.
pub fn weight_norm_forward(l: Units, v: &[f32], g: &[f32], w: &mut [f32], norms: &mut [f32], part: Range<usize>) {
    assert!(v.len() >= l.extent() && w.len() >= l.extent() && g.len() >= l.units && norms.len() >= l.units && part.end <= l.units);
    if l.unit_stride == 1 && l.units > 1 {
        for u0 in part.clone().step_by(BLOCK) {
            let n = BLOCK.min(part.end - u0);
            let mut sq = [0f64; BLOCK];
            for e in 0..l.len {
                let row = &v[l.at(u0, e)..][..n];
                for (a, &x) in sq.iter_mut().zip(row) {
                    *a += x as f64 * x as f64;
                }
            }
            let mut scale = [0f32; BLOCK];
            for j in 0..n {
                let norm = sq[j].sqrt();
                norms[u0 + j] = norm as f32;
                scale[j] = (g[u0 + j] as f64 / norm) as f32;
            }
            for e in 0..l.len {
                let at = l.at(u0, e);
                for ((o, &x), &k) in w[at..at + n].iter_mut().zip(&v[at..at + n]).zip(&scale) {
                    *o = k * x;
                }
            }
        }
        return;
    }
    for u in part {
        let sq = (0..l.len).fold(0f64, |a, e| {
            let x = v[l.at(u, e)] as f64;
            a + x * x
        });
        let norm = sq.sqrt();
        norms[u] = norm as f32;
        let scale = (g[u] as f64 / norm) as f32;
        for e in 0..l.len {
            w[l.at(u, e)] = scale * v[l.at(u, e)];
        }
    }
}

/// Given dw = ∂L/∂w: dg[u] += Σ dw·v/‖v‖ and dv += (g/‖v‖)·(dw − (dg_u/‖v‖)·v), with this
/// step's dg_u (the gradient of w through v has no component along v).
/// Units in `part` only, as the forward pass.
pub fn weight_norm_backward(l: Units, v: &[f32], g: &[f32], norms: &[f32], dw: &[f32], dv: &mut [f32], dg: &mut [f32], part: Range<usize>) {
    assert!(v.len() >= l.extent() && dw.len() >= l.extent() && dv.len() >= l.extent() && g.len() >= l.units && norms.len() >= l.units && dg.len() >= l.units && part.end <= l.units);
    if l.unit_stride == 1 && l.units > 1 {
        for u0 in part.clone().step_by(BLOCK) {
            let n = BLOCK.min(part.end - u0);
            let mut dot = [0f64; BLOCK];
            for e in 0..l.len {
                let at = l.at(u0, e);
                for ((a, &d), &x) in dot.iter_mut().zip(&dw[at..at + n]).zip(&v[at..at + n]) {
                    *a += d as f64 * x as f64;
                }
            }
            let (mut scale, mut along) = ([0f32; BLOCK], [0f32; BLOCK]);
            for j in 0..n {
                let norm = norms[u0 + j] as f64;
                let grad_g = dot[j] / norm;
                dg[u0 + j] += grad_g as f32;
                scale[j] = (g[u0 + j] as f64 / norm) as f32;
                along[j] = (grad_g / norm) as f32;
            }
            for e in 0..l.len {
                let at = l.at(u0, e);
                let lanes = dv[at..at + n].iter_mut().zip(&dw[at..at + n]).zip(&v[at..at + n]).zip(&scale[..n]).zip(&along[..n]);
                for ((((o, &d), &x), &k), &a) in lanes {
                    *o += k * (d - a * x);
                }
            }
        }
        return;
    }
    for u in part {
        let norm = norms[u] as f64;
        let dot = (0..l.len).fold(0f64, |a, e| a + dw[l.at(u, e)] as f64 * v[l.at(u, e)] as f64);
        let grad_g = dot / norm;
        dg[u] += grad_g as f32;
        let scale = (g[u] as f64 / norm) as f32;
        let along = (grad_g / norm) as f32;
        for e in 0..l.len {
            let i = l.at(u, e);
            dv[i] += scale * (dw[i] - along * v[i]);
        }
    }
}
