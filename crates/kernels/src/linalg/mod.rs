//! Linear algebra for PCA and the Fréchet distance: the covariance matrix
//! (packed syrk for dense columns, axpy rows for sparse ones), the top
//! eigenpairs of a symmetric matrix by Lanczos, and a full Householder + QL
//! eigen-decomposition for small matrices.

pub mod covariance;
pub mod lanczos;
pub mod symmetric;
pub mod tridiagonal;
pub mod vector;

pub use covariance::{column_stats, covariance_assemble, gather_shifted, sparse_rows_accumulate, syrk_upper, syrk_upper_columns};
pub use lanczos::{lanczos_top_eigen, Lanczos};
pub use symmetric::symmetric_eigen;
pub use tridiagonal::tridiagonal_ql;
