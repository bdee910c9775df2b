//! What is sampled or optimised, with its exact derivatives and closed forms: random Hessian
//! ensembles, the inertia of their samples and rare-event estimators of their
//! positive-definiteness (C1, C2); strict saddles, chains of saddles and a two-layer linear
//! network, with the closed-form escape times of GD, noisy and perturbed GD
//! ([`escape_theory`], C4); double wells with Kramers' law and the exact mean first-passage
//! time (C5); shelves, deep linear networks and the soft committee machine (C7); degenerate
//! terrains (C8). Every objective implements [`Objective`].

mod box_probability;
mod box_splitting;
mod cliff;
mod committee;
mod deep_linear;
mod degenerate;
mod discrete_exit;
pub mod escape_theory;
mod field_reduction;
mod gradient_laws;
mod hessian;
mod objective;
mod plateau;
mod saddles;
mod tridiagonal;
mod wall_splitting;
mod wells;

pub use box_probability::{
    gaussian_box_threshold, ln_box_equicorrelated, ln_box_scale_mixture, ln_integral,
    scale_mixture_threshold,
};
pub use box_splitting::{
    BoxSplitting, BoxSplittingRun, BoxSplittingWorkspace, box_score, direct_box_hits,
};
pub use cliff::RecurrentCliff;
pub use committee::{CommitteeLoss, MAX_UNITS as MAX_COMMITTEE_UNITS, SoftCommittee};
pub use deep_linear::{DeepLinearNet, Initialisation, decoupled_gd_steps, saxe_learning_steps};
pub use degenerate::{DegenerateLoss, DegenerateTerrain};
pub use discrete_exit::discrete_mean_exit_steps;
pub use field_reduction::{FieldReduction, ReducedSample};
pub use gradient_laws::{
    EquicorrelatedGradient, FeatureGradient, GradientLaw, IndependentGradient, ScaleMixtureGradient,
};
pub use hessian::{
    CoinHessian, DenseWigner, ShiftedWishart, goe_2x2_positive_definite_probability,
    marchenko_pastur_cdf, negative_eigenvalue_count,
};
pub use objective::Objective;
pub use plateau::Shelf;
pub use saddles::{MAX_WIDTH, QuadraticSaddle, SaddleChain, TwoLayerLinear, random_start};
pub use tridiagonal::{Inertia, TridiagonalEnsemble};
pub use wall_splitting::{
    SplittingRun, SplittingWorkspace, WallSplitting, count_below, lowest_eigenvalue,
};
pub use wells::{DoubleWell, kramers_time, mean_first_passage_time};
