//! 2-D convolutions (NCHW) through the packed GEMM, forward beside backward.
//!
//! One geometry describes a convolution from C×H×W images to O×OH×OW ones, kernel kh×kw,
//! stride and zero padding per axis; its weight is O×(C·kh·kw), PyTorch's `Conv2d.weight`
//! `[O, C, kh, kw]` read as a matrix. A transposed convolution is the same geometry read
//! backwards — its input is the O×OH×OW side, its output the C×H×W side — and its weight,
//! PyTorch's `ConvTranspose2d.weight [O, C, kh, kw]` (in channels first), is the same matrix.
//! So four kernels serve both layers:
//!
//! - [`conv_forward_images`]: y = f(W·cols(x) + b), keeping cols(x) (a conv's forward; a
//!   transposed conv's ∂L/∂input, and the columns of its ∂L/∂output its weight gradient needs);
//! - [`conv_backward_input_images`]: x = uncols(Wᵀ·y), then f(· + b) per channel when asked (a
//!   conv's ∂L/∂input; a transposed conv's forward);
//! - [`conv_weight_grad_rows`]: dW += Σ_images a·cols(·)ᵀ;
//! - [`bias_activation_backward_channels`]: dy ← dy ⊙ f′(y), db += Σ dy per channel.
//!
//! cols(x) is im2col: a (C·kh·kw)×(OH·OW) matrix per image, row (c, i, j), column (oy, ox),
//! holding x[c, oy·sh − ph + i, ox·sw − pw + j] or 0 outside the image; uncols is its
//! adjoint, summing each column entry back into the pixel it came from.
//!
//! Threads split the images (forward, input gradient) or the output rows of W (weight
//! gradient) or the channels (bias): every output element is computed by the same operations
//! in the same order whatever the split, so the bits do not depend on the thread count.

use core::ops::Range;

use crate::activation::{self, Activation};
use crate::gemm::{sgemm, PackA, Scratch, Start};
use crate::simd::F32x4;

/// A convolution from C×H×W to O×OH×OW (see the module's documentation).
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

    /// Rows of cols(x): C·kh·kw (the columns of W).
    pub fn patch(&self) -> usize {
        self.channels * self.kernel.0 * self.kernel.1
    }

    /// Columns of cols(x): OH·OW.
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

    /// Floats of one image's cols.
    pub fn cols_len(&self) -> usize {
        self.patch() * self.pixels()
    }

    /// Calls `f(row, q, at)` for every entry of cols, in the order of its rows then columns: row
    /// (c, i, j), column q = oy·OW + ox, and `at` the index in the image it copies, or usize::MAX
    /// in the padding. One loop for both directions keeps the module small (it ships in every
    /// bundle).
    #[inline(always)]
    fn taps(&self, mut f: impl FnMut(usize, usize, usize)) {
        let (kh, kw) = self.kernel;
        let (sh, sw) = self.stride;
        let (ph, pw) = self.padding;
        let (h, w, oh, ow) = (self.height as isize, self.width as isize, self.out_height, self.out_width);
        let mut row = 0;
        for c in 0..self.channels {
            for i in 0..kh {
                for j in 0..kw {
                    for oy in 0..oh {
                        let iy = (oy * sh + i) as isize - ph as isize;
                        for ox in 0..ow {
                            let ix = (ox * sw + j) as isize - pw as isize;
                            let at = if iy >= 0 && iy < h && ix >= 0 && ix < w { ((c as isize * h + iy) * w + ix) as usize } else { usize::MAX };
                            f(row, oy * ow + ox, at);
                        }
                    }
                    row += 1;
                }
            }
        }
    }

    /// cols ← im2col(x) for one image.
    pub fn im2col(&self, x: &[f32], cols: &mut [f32]) {
        let p = self.pixels();
        let (x, cols) = (&x[..self.input_len()], &mut cols[..self.cols_len()]);
        self.taps(|row, q, at| cols[row * p + q] = if at == usize::MAX { 0.0 } else { x[at] });
    }

    /// x ← uncols(cols) for one image (overwritten): each pixel the sum, in row order of cols,
    /// of the entries im2col would have copied from it.
    pub fn col2im(&self, cols: &[f32], x: &mut [f32]) {
        let p = self.pixels();
        let (x, cols) = (&mut x[..self.input_len()], &cols[..self.cols_len()]);
        x.iter_mut().for_each(|v| *v = 0.0);
        self.taps(|row, q, at| {
            if at != usize::MAX {
                x[at] += cols[row * p + q];
            }
        });
    }
}

/// The packing of W for the `i`-th image of a part: the part's own mode for its first image
/// (a one-thread call packs W whole there), then the packed W again.
fn pack_for(s: &Scratch, first: bool) -> PackA {
    match (first, s.pack_a) {
        (true, PackA::Blocks) => PackA::Whole,
        (true, mode) => mode,
        (false, _) => PackA::Reuse,
    }
}

/// For images `images`: cols ← im2col(x), then, unless `y` is None, y ← f(W·cols + b) (b per
/// output channel; None: no bias). x: N×C×H×W, W: O×(C·kh·kw), y: N×O×OH×OW, cols: N × cols_len.
pub fn conv_forward_images<V: F32x4>(
    g: &Geometry,
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    y: Option<&mut [f32]>,
    cols: &mut [f32],
    act: Activation,
    alpha: f32,
    images: Range<usize>,
    s: &mut Scratch,
) {
    g.check();
    let (k, p, il, ol, cl) = (g.patch(), g.pixels(), g.input_len(), g.output_len(), g.cols_len());
    assert!(x.len() >= images.end * il && cols.len() >= images.end * cl && w.len() >= g.outputs * k);
    let mut y = y;
    for (i, n) in images.clone().enumerate() {
        let c = &mut cols[n * cl..(n + 1) * cl];
        g.im2col(&x[n * il..(n + 1) * il], c);
        if let Some(y) = y.as_mut() {
            assert!(y.len() >= images.end * ol);
            let out = &mut y[n * ol..(n + 1) * ol];
            let start = match b {
                Some(b) => {
                    assert!(b.len() >= g.outputs);
                    for (row, &bo) in out.chunks_exact_mut(p).zip(b) {
                        row.iter_mut().for_each(|v| *v = bo);
                    }
                    Start::Accumulate
                }
                None => Start::Overwrite,
            };
            s.pack_a = pack_for(s, i == 0);
            // y_n[O×P] (+)= W[O×K]·cols_n[K×P]
            unsafe { sgemm::<V::Sgemm>(g.outputs, k, p, w.as_ptr(), k, 1, c.as_ptr(), p, 1, out.as_mut_ptr(), p, start, s) };
            activation::forward::<V>(act, alpha, out);
        }
    }
}

/// For images `images`: cols ← Wᵀ·dy (scratch, overwritten), dx ← uncols(cols), then, when
/// `b` is given, dx ← f(dx + b) per channel of dx. dy: N×O×OH×OW, dx: N×C×H×W.
pub fn conv_backward_input_images<V: F32x4>(
    g: &Geometry,
    dy: &[f32],
    w: &[f32],
    dx: &mut [f32],
    cols: &mut [f32],
    b: Option<&[f32]>,
    act: Activation,
    alpha: f32,
    images: Range<usize>,
    s: &mut Scratch,
) {
    g.check();
    let (k, p, il, ol, cl) = (g.patch(), g.pixels(), g.input_len(), g.output_len(), g.cols_len());
    assert!(dy.len() >= images.end * ol && dx.len() >= images.end * il && cols.len() >= images.end * cl && w.len() >= g.outputs * k);
    let hw = g.height * g.width;
    for (i, n) in images.clone().enumerate() {
        let c = &mut cols[n * cl..(n + 1) * cl];
        s.pack_a = pack_for(s, i == 0);
        // cols_n[K×P] = Wᵀ[K×O]·dy_n[O×P]
        unsafe { sgemm::<V::Sgemm>(k, g.outputs, p, w.as_ptr(), 1, k, dy[n * ol..].as_ptr(), p, 1, c.as_mut_ptr(), p, Start::Overwrite, s) };
        let out = &mut dx[n * il..(n + 1) * il];
        g.col2im(c, out);
        if let Some(b) = b {
            assert!(b.len() >= g.channels);
            for (plane, &bc) in out.chunks_exact_mut(hw).zip(b) {
                plane.iter_mut().for_each(|v| *v += bc);
            }
            activation::forward::<V>(act, alpha, out);
        }
    }
}

/// For output rows `rows` of dW (O×(C·kh·kw)): dW[rows] += Σ over images n in order of
/// a_n[rows]·cols_nᵀ, a being N×O×(OH·OW) and cols the N images' im2col.
pub fn conv_weight_grad_rows<V: F32x4>(
    g: &Geometry,
    images: usize,
    a: &[f32],
    cols: &[f32],
    dw: &mut [f32],
    rows: Range<usize>,
    s: &mut Scratch,
) {
    g.check();
    let (k, p, ol, cl) = (g.patch(), g.pixels(), g.output_len(), g.cols_len());
    assert!(a.len() >= images * ol && cols.len() >= images * cl && dw.len() >= g.outputs * k);
    assert!(rows.start <= rows.end && rows.end <= g.outputs);
    let r = rows.end - rows.start;
    if r == 0 {
        return;
    }
    for n in 0..images {
        // dW[rows, K] += a_n[rows, P]·cols_n[K×P]ᵀ; A changes with n: packed block by block.
        unsafe {
            sgemm::<V::Sgemm>(r, p, k, a[n * ol + rows.start * p..].as_ptr(), p, 1, cols[n * cl..].as_ptr(), 1, p, dw[rows.start * k..].as_mut_ptr(), k, Start::Accumulate, &mut s.blocks())
        };
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
