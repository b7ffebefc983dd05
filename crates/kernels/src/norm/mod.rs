//! Normalisation layers' kernels: batch normalisation and weight normalisation.

pub mod batch_norm;
pub mod weight_norm;
