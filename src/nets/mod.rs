//! Real networks on real data: fully connected networks trained on the UCI digits (or iris)
//! with exact first and second derivatives, for the claims about trained models (C3, C6, C9)
//! and for auditing a user's own model.
//!
//! [`Dataset`] loads the data compiled into the binary; [`Mlp`] computes the loss, its
//! gradient by backpropagation and Hessian-vector products by Pearlmutter's R-operator as
//! batched matrix products; [`dense_hessian`] assembles the Hessian from P such products and
//! [`Spectrum`] reads its eigenvalues (faer) and index; [`train`] trains with the suite's
//! optimizers and records where training looks converged; [`nearest_critical_point`] searches
//! for the critical point nearest to where it stopped and [`straight_line_losses`] samples
//! the loss between two weight vectors.

mod audit;
mod batch_norm;
mod chunked;
mod critical;
mod data;
mod hessian;
mod interpolation;
mod lanczos;
mod mlp;
mod symmetry;
mod train;
mod unit_column;

pub use audit::{CurvatureAudit, GradientShares, LayerGradient, audit_curvature, layer_gradients};
pub use batch_norm::Statistics;
pub use chunked::ChunkedEvaluator;
pub use critical::{
    CriticalSearch, NewtonStep, SearchOutcome, SearchSettings, convergence_order,
    nearest_critical_point,
};
pub use data::{DataName, Dataset, Split};
pub use hessian::{INDEX_THRESHOLDS, Spectrum, dense_hessian, index_by_inertia};
pub use interpolation::{largest_rise, straight_line_losses};
pub use lanczos::{RitzPairs, ShareBounds, lanczos, spectral_density};
pub use mlp::{Activation, LayerSlices, Loss, Mlp, Workspace};
pub use symmetry::canonical_form;
pub use train::{EpochRecord, NetObjective, Plateau, Schedule, TrainingRun, train};
