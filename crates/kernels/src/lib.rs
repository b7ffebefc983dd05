//! latentkit's math: pure functions over slices, no I/O and no allocation
//! policy. Every SIMD kernel is generic over [`simd::F32x4`]; its scalar twin
//! is the same code over [`simd::Scalar`].

#[macro_use]
pub mod codes;
pub mod activation;
pub mod conv;
pub mod dense;
pub mod gaussian;
pub mod gemm;
pub mod init;
pub mod loss;
pub mod mathf;
pub mod norm;
pub mod optim;
pub mod rng;
pub mod simd;
pub mod linalg;
