//! What one training run of `convergence-audit` leaves behind, and the accumulator that keeps
//! the runs of a cell in replicate order (the paired tests need every run, not only moments).

use serde::{Deserialize, Serialize};

use crate::mc::Accumulator;

pub use crate::nets::INDEX_THRESHOLDS;

/// The audit of one point where training looked converged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlateauAudit {
    /// Epoch at which the apparent-convergence rule fired.
    pub epoch: u64,
    /// Learning rate in use until then.
    pub learning_rate: f64,
    /// Full-batch training loss.
    pub loss: f64,
    /// Accuracy on the training and on the held-out set.
    pub accuracy: (f64, f64),
    /// Full-batch gradient norm.
    pub gradient_norm: f64,
    /// Per layer (input layer first): gradient norm and root mean square per parameter.
    pub layers: Vec<(f64, f64)>,
    /// Smallest and largest Hessian eigenvalue.
    pub lambda: (f64, f64),
    /// Index at each of [`INDEX_THRESHOLDS`] (times `λ_max`).
    pub index: Vec<u64>,
    /// Outliers above the bulk ([`crate::nets::Spectrum::outliers`]).
    pub outliers: u64,
    /// Shares of ‖g‖² in the top-k, near-null and negative eigenspaces (τ = the
    /// curvature tolerance).
    pub shares: (f64, f64, f64),
}

/// One point of the training history kept for the figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    /// Epoch.
    pub epoch: u64,
    /// Full-batch loss.
    pub loss: f64,
    /// Full-batch gradient norm, whole and per layer.
    pub gradient_norm: f64,
    /// Per layer, input layer first.
    pub layer_norms: Vec<f64>,
}

/// The nearest-critical-point search from the last plateau.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRecord {
    /// Distance moved.
    pub distance: f64,
    /// Loss at the end minus loss at the start.
    pub loss_change: f64,
    /// Gradient norm at the end over the initial (epoch 0) gradient norm.
    pub relative_gradient: f64,
    /// `‖Hg‖/(s‖g‖)` at the end.
    pub flatness: f64,
    /// Index at the end at the middle threshold (`10⁻³ λ_max`), by LBLᵀ inertia.
    pub index: u64,
    /// Smallest eigenvalue over the largest at the end (Lanczos, 80 steps).
    pub lambda_ratio: f64,
    /// `critical`, `gradient-flat` or `stalled`.
    pub outcome: String,
    /// Hessian-vector products spent.
    pub products: u64,
}

/// Eigenvalue counts in bins of `log10|λ|` of width 1/4 from −8 to 4, separately for
/// positive and negative eigenvalues; `|λ| < 10⁻⁸` goes to a zero bin and `|λ| ≥ 10⁴` to
/// the last bin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpectrumHistogram {
    /// Counts of positive eigenvalues per bin.
    pub positive: Vec<u64>,
    /// Counts of negative eigenvalues per bin.
    pub negative: Vec<u64>,
    /// `|λ| < 10⁻⁸`.
    pub zero: u64,
}

impl SpectrumHistogram {
    /// Lowest `log10|λ|` binned.
    pub const LOW: f64 = -8.0;
    /// Bins per decade.
    pub const PER_DECADE: f64 = 4.0;
    /// Number of bins per sign.
    pub const BINS: usize = 48;

    /// Counts `eigenvalues` into the bins.
    pub fn record(&mut self, eigenvalues: &[f64]) {
        if self.positive.is_empty() {
            self.positive = vec![0; Self::BINS];
            self.negative = vec![0; Self::BINS];
        }
        for &l in eigenvalues {
            let position = (l.abs().log10() - Self::LOW) * Self::PER_DECADE;
            if position.is_nan() || position < 0.0 {
                self.zero += 1;
                continue;
            }
            let bin = (position as usize).min(Self::BINS - 1);
            if l > 0.0 {
                self.positive[bin] += 1;
            } else {
                self.negative[bin] += 1;
            }
        }
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &SpectrumHistogram) {
        if self.positive.is_empty() {
            self.clone_from(other);
            return;
        }
        for (a, b) in self.positive.iter_mut().zip(&other.positive) {
            *a += b;
        }
        for (a, b) in self.negative.iter_mut().zip(&other.negative) {
            *a += b;
        }
        self.zero += other.zero;
    }

    /// The centre of bin `bin` in `log10|λ|`.
    pub fn centre(bin: usize) -> f64 {
        Self::LOW + (bin as f64 + 0.5) / Self::PER_DECADE
    }

    /// All eigenvalues counted.
    pub fn total(&self) -> u64 {
        self.positive.iter().chain(&self.negative).sum::<u64>() + self.zero
    }
}

/// One training run from one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunAudit {
    /// An iterate or the loss became NaN/inf: the run is counted, never averaged in.
    pub diverged: bool,
    /// The rule fired after the last drop (otherwise the epoch budget ended the run).
    pub converged: bool,
    /// Epochs trained.
    pub epochs: u64,
    /// Parameters per layer (weights and biases), input layer first.
    pub layer_sizes: Vec<u64>,
    /// Gradient norm at initialisation, whole and per layer.
    pub initial_gradient: (f64, Vec<f64>),
    /// Every plateau, in order (the last is the end point).
    pub plateaus: Vec<PlateauAudit>,
    /// Thinned training history.
    pub history: Vec<HistoryPoint>,
    /// Loss along the straight line from the initial to the final weights.
    pub line: Vec<f64>,
    /// The nearest-critical-point search, if run.
    pub search: Option<SearchRecord>,
    /// Hessian spectrum at the end point.
    pub spectrum: SpectrumHistogram,
}

impl RunAudit {
    /// The last plateau, if training got that far without diverging.
    pub fn end(&self) -> Option<&PlateauAudit> {
        if self.diverged {
            None
        } else {
            self.plateaus.last()
        }
    }
}

/// The runs of one cell, in replicate order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CellRuns {
    /// One record per run.
    pub runs: Vec<RunAudit>,
}

impl Accumulator for CellRuns {
    fn merge(&mut self, later: Self) {
        self.runs.extend(later.runs);
    }

    fn replicates(&self) -> u64 {
        self.runs.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spectrum_bins_split_by_sign_and_size() {
        let mut h = SpectrumHistogram::default();
        h.record(&[-2.0, 1e-9, 0.0, 1.0, 1.1, 1e6, f64::NAN]);
        assert_eq!(h.zero, 3, "1e-9, 0 and NaN");
        // log10 1 = 0 → position (0 + 8)·4 = 32; log10 1.1 ≈ 0.04 → bin 32 too.
        assert_eq!(h.positive[32], 2);
        assert_eq!(h.positive[SpectrumHistogram::BINS - 1], 1);
        // log10 2 ≈ 0.301 → position 33.2 → bin 33.
        assert_eq!(h.negative[33], 1);
        assert_eq!(h.total(), 7);
        let mut merged = SpectrumHistogram::default();
        merged.merge(&h);
        merged.merge(&h);
        assert_eq!(merged.total(), 14);
        assert!((SpectrumHistogram::centre(32) - 0.125).abs() < 1e-15);
    }
}
