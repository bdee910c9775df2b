//! What is sampled or optimised: random Hessian ensembles, the inertia of their samples, and
//! rare-event estimators of their positive-definiteness.

mod hessian;
mod tridiagonal;
mod wall_splitting;

pub use hessian::{
    CoinHessian, DenseWigner, ShiftedWishart, goe_2x2_positive_definite_probability,
    marchenko_pastur_cdf, negative_eigenvalue_count,
};
pub use tridiagonal::{Inertia, TridiagonalEnsemble};
pub use wall_splitting::{SplittingRun, SplittingWorkspace, WallSplitting, lowest_eigenvalue};
