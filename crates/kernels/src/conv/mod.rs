//! 2-D convolutions (NCHW) as the dense layer's GEMMs over patch rows.
//!
//! One geometry describes a convolution from C×H×W images to O×OH×OW ones, kernel kh×kw,
//! stride and zero padding per axis; its weight is O×(C·kh·kw), PyTorch's `Conv2d.weight`
//! `[O, C, kh, kw]` read as a matrix. A transposed convolution is the same geometry read
//! backwards — its input is the O×OH×OW side, its output the C×H×W side — and its weight,
//! PyTorch's `ConvTranspose2d.weight [O, C, kh, kw]` (in channels first), is the same matrix.
//!
//! The products are the dense layer's (crates/kernels/src/dense.rs) over the whole batch at once:
//! [`im2row_images`] lays every output pixel's receptive field out as a row of C·kh·kw values (the
//! patches, one row per image and output pixel), so a convolution is patches·Wᵀ (+ b, f), its
//! weight gradient dzᵀ·patches and its input gradient the patches' gradient dz·W summed back by
//! [`row2im_images`]; [`transpose_images`] turns images into rows of channels and back. Large GEMMs instead of one small GEMM per image: on the DCGAN's shapes, the
//! per-image form ran at 62 % of the SIMD ceiling, these at 87–92 % (one thread).
//!
//! Threads split the images here and the columns in the dense kernels: every output element is
//! computed by the same operations in the same order whatever the split.

use core::ops::Range;

use crate::activation::{self, Activation};
use crate::simd::F32x4;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub outputs: usize,
    pub out_height: usize,
    pub out_width: usize,
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
}

impl Geometry {
    /// The output size a convolution of these parameters has: ⌊(H + 2p − k)/s⌋ + 1 per axis.
    pub fn output_size(size: usize, kernel: usize, stride: usize, padding: usize) -> usize {
        (size + 2 * padding - kernel) / stride + 1
    }

    /// Panics unless the sizes are positive and the output is what the input, kernel, stride
    /// and padding give (TypeScript checks every one of these before it calls).
    pub fn check(&self) {
        let (kh, kw) = self.kernel;
        let (sh, sw) = self.stride;
        let (ph, pw) = self.padding;
        assert!(self.channels > 0 && self.height > 0 && self.width > 0 && self.outputs > 0 && kh > 0 && kw > 0 && sh > 0 && sw > 0);
        assert!(kh <= self.height + 2 * ph && kw <= self.width + 2 * pw);
        assert!(self.out_height == Self::output_size(self.height, kh, sh, ph) && self.out_width == Self::output_size(self.width, kw, sw, pw));
    }

    /// Values in one patch: C·kh·kw (the columns of W).
    pub fn patch(&self) -> usize {
        self.channels * self.kernel.0 * self.kernel.1
    }

    /// Patches per image: OH·OW.
    pub fn pixels(&self) -> usize {
        self.out_height * self.out_width
    }

    /// Floats of one C×H×W image.
    pub fn input_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Floats of one O×OH×OW image.
    pub fn output_len(&self) -> usize {
        self.outputs * self.pixels()
    }

    /// Floats of one image's patches: OH·OW rows of C·kh·kw.
    pub fn patches_len(&self) -> usize {
        self.patch() * self.pixels()
    }

    /// Calls `f(r, x0, j0, j1)` for every run of one image's patches, in order — output pixel q =
    /// oy·OW + ox, then channel c and kernel row i: patch columns r.. (r = (c·kh + i)·kw) hold the
    /// input row at index x0 (plane c, row oy·sh − ph + i, column ox·sw − pw + j0) at taps j0..j1
    /// and zeros at the other taps of 0..kw (all of them, with j0 = j1 = 0, when the row is
    /// padding). x0 + (j1 − j0) ≤ C·H·W and r + kw ≤ OH·OW·C·kh·kw always hold.
    /// One loop for both directions keeps the module small (it ships in every bundle).
    #[inline(always)]
    fn runs(&self, mut f: impl FnMut(usize, usize, usize, usize)) {
        let (kh, kw) = self.kernel;
        let (sh, sw) = self.stride;
        let (ph, pw) = self.padding;
        let (h, w) = (self.height, self.width);
        let plane = h * w;
        let mut r = 0;
        for oy in 0..self.out_height {
            for ox in 0..self.out_width {
                // Taps j with 0 ≤ ox·sw − pw + j < W.
                let left = ox * sw;
                let j0 = pw.saturating_sub(left).min(kw);
                let j1 = (w + pw).saturating_sub(left).min(kw).max(j0);
                let column = (left + j0).wrapping_sub(pw);
                for c in 0..self.channels {
                    for i in 0..kh {
                        let y = oy * sh + i;
                        if y >= ph && y - ph < h && j0 < j1 {
                            f(r, c * plane + (y - ph) * w + column, j0, j1);
                        } else {
                            f(r, 0, 0, 0);
                        }
                        r += kw;
                    }
                }
            }
        }
    }
}

/// For images `images`: patches[(n·P + q)·K + r] ← the input value under tap r of output pixel q
/// (0 in the padding), x being N×C×H×W and patches (N·OH·OW)×(C·kh·kw).
pub fn im2row_images<V: F32x4>(g: &Geometry, x: &[f32], patches: &mut [f32], images: Range<usize>) {
    g.check();
    let (kw, il, pl) = (g.kernel.1, g.input_len(), g.patches_len());
    assert!(x.len() >= images.end * il && patches.len() >= images.end * pl);
    for n in images {
        let (x, rows) = (x[n * il..(n + 1) * il].as_ptr(), patches[n * pl..(n + 1) * pl].as_mut_ptr());
        // SAFETY: `runs` keeps r + kw within this image's patches and x0 + (j1 − j0) within its
        // pixels (the slices above, bounds-checked once); a bounds check per value was most of
        // this pass's time.
        g.runs(|r, x0, j0, j1| unsafe {
            let run = rows.add(r);
            if kw == 4 && j0 == 0 && j1 == 4 {
                // A 4-wide kernel row inside the image: one vector.
                V::load(x.add(x0)).store(run);
                return;
            }
            for j in 0..j0 {
                *run.add(j) = 0.0;
            }
            for j in j0..j1 {
                *run.add(j) = *x.add(x0 + j - j0);
            }
            for j in j1..kw {
                *run.add(j) = 0.0;
            }
        });
    }
}

/// For images `images`: x ← the sum, in patch order, of every patch entry taken from each input
/// value (overwritten; the adjoint of [`im2row_images`]), plus b per channel when given, then f.
pub fn row2im_images<V: F32x4>(g: &Geometry, patches: &[f32], x: &mut [f32], b: Option<&[f32]>, act: Activation, alpha: f32, images: Range<usize>) {
    g.check();
    let (il, pl, hw) = (g.input_len(), g.patches_len(), g.height * g.width);
    assert!(x.len() >= images.end * il && patches.len() >= images.end * pl && b.map_or(true, |b| b.len() >= g.channels));
    for n in images {
        let out = &mut x[n * il..(n + 1) * il];
        out.iter_mut().for_each(|v| *v = 0.0);
        let (dst, rows) = (out.as_mut_ptr(), patches[n * pl..(n + 1) * pl].as_ptr());
        // SAFETY: as in im2row_images.
        g.runs(|r, x0, j0, j1| unsafe {
            for j in j0..j1 {
                *dst.add(x0 + j - j0) += *rows.add(r + j);
            }
        });
        if let Some(b) = b {
            for (plane, &bc) in out.chunks_exact_mut(hw).zip(b) {
                plane.iter_mut().for_each(|v| *v += bc);
            }
        }
        activation::forward::<V>(act, alpha, out);
    }
}

/// For images `images`, each a rows×cols matrix: dst's image ← its transpose. Images C×S in NCHW
/// become S rows of C channels (rows = C, cols = S) and back (rows = S, cols = C).
pub fn transpose_images(rows: usize, cols: usize, src: &[f32], dst: &mut [f32], images: Range<usize>) {
    let l = rows * cols;
    assert!(src.len() >= images.end * l && dst.len() >= images.end * l);
    for n in images {
        let (a, t) = (&src[n * l..(n + 1) * l], &mut dst[n * l..(n + 1) * l]);
        for r in 0..rows {
            for c in 0..cols {
                t[c * rows + r] = a[r * cols + c];
            }
        }
    }
}

/// For channels `channels` of N×C×S outputs y with gradient dy: dy ← dy ⊙ f′(y), and db[c] +=
/// the sum of the channel's dy over images then positions, unless db is None.
pub fn bias_activation_backward_channels<V: F32x4>(
    images: usize,
    c: usize,
    size: usize,
    y: &[f32],
    dy: &mut [f32],
    db: Option<&mut [f32]>,
    act: Activation,
    alpha: f32,
    channels: Range<usize>,
) {
    assert!(y.len() >= images * c * size && dy.len() >= images * c * size && channels.end <= c);
    let span = (channels.end - channels.start) * size;
    for n in 0..images {
        let at = (n * c + channels.start) * size;
        activation::backward::<V>(act, alpha, &y[at..at + span], &mut dy[at..at + span]);
    }
    if let Some(db) = db {
        assert!(db.len() >= c);
        for ch in channels {
            let mut sum = 0f32;
            for n in 0..images {
                sum += dy[(n * c + ch) * size..][..size].iter().fold(0f32, |a, &v| a + v);
            }
            db[ch] += sum;
        }
    }
}
