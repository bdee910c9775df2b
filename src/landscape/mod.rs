//! What is sampled or optimised: random Hessian ensembles, the inertia of their samples, and
//! rare-event estimators of their positive-definiteness.

mod hessian;
mod pivot_smc;
mod tridiagonal;

pub use hessian::{
    CoinHessian, DenseWigner, ShiftedWishart, goe_2x2_positive_definite_probability,
    marchenko_pastur_cdf, negative_eigenvalue_count,
};
pub use pivot_smc::{PivotSmc, SmcWorkspace};
pub use tridiagonal::{Inertia, TridiagonalEnsemble};
