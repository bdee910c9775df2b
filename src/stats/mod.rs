//! Estimators and tests: mergeable moments, proportions with Wilson and Clopper–Pearson
//! bounds, log-space sums for rare events, weighted least-squares fits, and hypothesis tests
//! (exact binomial, z, chi-square, Kolmogorov–Smirnov), and paired comparisons of two arms
//! (Fisher's exact test, Hodges–Lehmann intervals).
//!
//! Every accumulator here merges: a chunk of a Monte Carlo run keeps one, and the engine
//! combines them in a fixed order, so no sample is ever stored.

mod fit;
mod gaussian_tail;
mod hypothesis;
mod log_histogram;
mod logspace;
mod moments;
mod paired;
mod proportion;
mod special;
mod ziggurat;

pub use fit::{LinearFit, weighted_least_squares};
pub use gaussian_tail::{ln_normal_sf, sample_normal_above};
pub use hypothesis::{
    TestOutcome, binomial_test, chi_square_goodness_of_fit, chi_square_homogeneity,
    error_bar_consistency, kolmogorov_p_value, kolmogorov_smirnov, spearman,
    studentised_error_test, z_test,
};
pub use log_histogram::LogHistogram;
pub use logspace::LogSumExp;
pub use moments::MeanVar;
pub use paired::{ShiftEstimate, fisher_exact, hodges_lehmann};
pub use proportion::{Proportion, two_sided_z};
pub use special::trigamma;
pub use ziggurat::ZigguratNormal;

/// What can go wrong when computing a statistic.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StatsError {
    /// A confidence level outside (0, 1).
    #[error("confidence level must lie strictly between 0 and 1, got {0}")]
    ConfidenceOutOfRange(f64),
    /// A fit that has no unique solution.
    #[error("ill-posed fit: {0}")]
    IllPosedFit(String),
    /// Arguments a test cannot take.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A distribution rejected its parameters.
    #[error("distribution error: {0}")]
    Distribution(String),
}
