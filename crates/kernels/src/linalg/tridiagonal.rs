//! Eigenvalues of a symmetric tridiagonal matrix by the implicit QL method
//! with Wilkinson shifts, accumulating the rotations into any set of rows.

/// √(a² + b²) without overflow; plain IEEE operations so every runtime agrees.
fn hypot(a: f64, b: f64) -> f64 {
    let (a, b) = (a.abs(), b.abs());
    let big = a.max(b);
    if big == 0.0 {
        return 0.0;
    }
    let (x, y) = (a / big, b / big);
    big * (x * x + y * y).sqrt()
}

/// Diagonalises T (diagonal `diag[0..n]`, off-diagonal `off[i]` = T[i, i+1],
/// `off[n−1]` ignored). On return `diag` holds the eigenvalues, unsorted, and
/// every row of `z` (`rows` × n, row-major) has been multiplied by the
/// accumulated rotations: start from the identity to get eigenvectors as
/// columns, or from e_{n−1}ᵀ to get just their last components. Returns false
/// if some eigenvalue needed more than 64 sweeps.
pub fn tridiagonal_ql(diag: &mut [f64], off: &mut [f64], z: &mut [f64], rows: usize) -> bool {
    let n = diag.len();
    debug_assert!(off.len() >= n && z.len() >= rows * n);
    if n == 0 {
        return true;
    }
    off[n - 1] = 0.0;
    for l in 0..n {
        let mut sweeps = 0;
        loop {
            // The first negligible off-diagonal at or after l splits the problem.
            let mut m = l;
            while m + 1 < n {
                let dd = diag[m].abs() + diag[m + 1].abs();
                if off[m].abs() + dd == dd {
                    break;
                }
                m += 1;
            }
            if m == l {
                break;
            }
            sweeps += 1;
            if sweeps > 64 {
                return false;
            }
            // Wilkinson shift from the leading 2×2 block.
            let mut g = (diag[l + 1] - diag[l]) / (2.0 * off[l]);
            let mut r = hypot(g, 1.0);
            g = diag[m] - diag[l] + off[l] / (g + if g >= 0.0 { r } else { -r });
            let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
            let mut deflated = false;
            let mut i = m;
            while i > l {
                i -= 1;
                let f = s * off[i];
                let b = c * off[i];
                r = hypot(f, g);
                off[i + 1] = r;
                if r == 0.0 {
                    diag[i + 1] -= p;
                    off[m] = 0.0;
                    deflated = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = diag[i + 1] - p;
                r = (diag[i] - g) * s + 2.0 * c * b;
                p = s * r;
                diag[i + 1] = g + p;
                g = c * r - b;
                for row in z[..rows * n].chunks_exact_mut(n) {
                    let f = row[i + 1];
                    row[i + 1] = s * row[i] + c * f;
                    row[i] = c * row[i] - s * f;
                }
            }
            if deflated {
                continue;
            }
            diag[l] -= p;
            off[l] = g;
            off[m] = 0.0;
        }
    }
    true
}

/// Indices of `x` by descending value, ties by index. Insertion sort: the
/// inputs are at most a few hundred long, and std's sort costs kilobytes of
/// WebAssembly.
pub(crate) fn descending(x: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = Vec::with_capacity(x.len());
    for i in 0..x.len() {
        let mut at = order.len();
        while at > 0 && x[order[at - 1]] < x[i] {
            at -= 1;
        }
        order.insert(at, i);
    }
    order
}
