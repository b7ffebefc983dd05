//! Weight initialisers for a fan_in × fan_out matrix (biases start at zero).

use crate::rng::Xoshiro128ss;

code_enum! {
    /// Initialiser codes (ts/runtime/codes.ts: INIT).
    pub enum Init {
        /// U(±√(6/(fan_in+fan_out))), Glorot & Bengio 2010.
        GlorotUniform = 0,
        /// N(0, 2/(fan_in+fan_out)).
        GlorotNormal = 1,
        /// N(0, 2/fan_in), He et al. 2015.
        HeNormal = 2,
        /// U(±√(6/fan_in)).
        HeUniform = 3,
    }
}

pub fn init_weights(kind: Init, rng: &mut Xoshiro128ss, w: &mut [f32], fan_in: usize, fan_out: usize) {
    let (fi, fo) = (fan_in as f64, fan_out as f64);
    match kind {
        Init::GlorotUniform => {
            let limit = (6.0 / (fi + fo)).sqrt() as f32;
            rng.fill_uniform(w, -limit, limit)
        }
        Init::GlorotNormal => rng.fill_normal(w, 0.0, (2.0 / (fi + fo)).sqrt() as f32),
        Init::HeNormal => rng.fill_normal(w, 0.0, (2.0 / fi).sqrt() as f32),
        Init::HeUniform => {
            let limit = (6.0 / fi).sqrt() as f32;
            rng.fill_uniform(w, -limit, limit)
        }
    }
}
