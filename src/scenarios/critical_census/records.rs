//! What one search of `critical-census` leaves behind.

use serde::{Deserialize, Serialize};

use crate::mc::Accumulator;

pub use crate::nets::INDEX_THRESHOLDS;

/// One search from one starting point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRun {
    /// `critical`, `gradient-flat` or `stalled`.
    pub outcome: String,
    /// Loss at the start and at the end.
    pub losses: (f64, f64),
    /// Gradient norm at the end over the one at the start.
    pub relative_gradient: f64,
    /// Convergence order shown by the last three gradient norms (≈ 2: quadratic).
    pub order: f64,
    /// Newton iterations and Hessian-vector products used.
    pub cost: (u64, u64),
    /// Distance from the start.
    pub distance: f64,
    /// `‖Hg‖/(s‖g‖)` at the end (`s` the spectral radius at the start): near 0 where `g`
    /// lies in the Hessian's near-null space.
    pub flatness: f64,
    /// Smallest and largest Hessian eigenvalue at the end.
    pub lambda: (f64, f64),
    /// Index at each of [`INDEX_THRESHOLDS`] (times `λ_max`).
    pub index: Vec<u64>,
    /// The end point in canonical form (single precision: enough to tell distinct points
    /// apart at the deduplication tolerance), kept for critical ends only.
    pub canonical: Option<Vec<f32>>,
}

impl SearchRun {
    /// Whether the search reached a critical point.
    pub fn is_critical(&self) -> bool {
        self.outcome == "critical"
    }
}

/// The searches of one cell, in replicate order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CensusRuns {
    /// One record per search.
    pub runs: Vec<SearchRun>,
}

impl Accumulator for CensusRuns {
    fn merge(&mut self, later: Self) {
        self.runs.extend(later.runs);
    }

    fn replicates(&self) -> u64 {
        self.runs.len() as u64
    }
}
