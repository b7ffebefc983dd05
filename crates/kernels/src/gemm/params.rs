//! Block sizes of the GEMM driver, in one place (as in bluss/matrixmultiply).
//!
//! A packed B panel (KC × NR) stays in L1 while the microkernel walks the A
//! panels of one MC × KC block, which stays in L2; the KC × NC block of B is
//! reused across every MC block of A.

/// Columns of C per microkernel tile: two 4-lane vectors.
pub const NR: usize = 8;
/// The largest MR of the microkernels (gemm/kernel.rs: all 4 × 8); sizes the A packing buffer.
pub const MR_MAX: usize = 4;
/// Depth of one packed block.
pub const KC: usize = 256;
/// Rows of A packed at a time, in units of MR.
pub const MC_PANELS: usize = 16;
/// Columns of B packed at a time.
pub const NC: usize = 512;

/// Floats the A packing buffer needs for any MR ≤ MR_MAX.
pub const PACK_A_LEN: usize = MR_MAX * MC_PANELS * KC;
/// Floats the B packing buffer needs.
pub const PACK_B_LEN: usize = KC * NC;
/// Floats a thread keeps for all of A packed ([`super::PackA::Whole`]): 1 MiB, A of up to
/// 262,144 elements (256 × 1024, say); a larger A is packed block by block in every part.
pub const WHOLE_A_LEN: usize = 1 << 18;
