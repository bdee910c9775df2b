//! What is sampled or optimised: random Hessian ensembles and the inertia of their samples.

mod hessian;

pub use hessian::{
    CoinHessian, DenseGoe, goe_2x2_positive_definite_probability, negative_eigenvalue_count,
};
