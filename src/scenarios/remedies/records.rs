//! What one run of one arm produces, and the paired runs of a study.

use serde::{Deserialize, Serialize};

use crate::mc::Accumulator;

/// How a run that did not reach its target ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Failure {
    /// The step budget ran out (stuck or too slow).
    Censored,
    /// An iterate became NaN or infinite.
    Diverged,
    /// A coordinate underflowed to a subnormal number.
    Underflow,
}

/// The Hessian where a run reached its target (the batch-normalisation study, at its stated
/// rate): Ghorbani, Krishnan & Xiao (ICML 2019) report that batch normalisation removes the
/// outliers above the bulk and the gradient's concentration in their span.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EndCurvature {
    /// Largest eigenvalue.
    pub lambda_max: f64,
    /// Outliers above the bulk ([`crate::nets::Spectrum::outliers`], window 4 × classes).
    pub outliers: u32,
    /// Share of ‖g‖² in the span of the top-k eigenvectors (k = classes).
    pub top_share: f64,
}

/// One run of one arm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ArmRun {
    /// Steps to the target, if it was reached.
    pub steps: Option<u64>,
    /// Why not, if it was not.
    pub failure: Option<Failure>,
    /// Steps at which the loss rose by more than the stated factor (the cliff only).
    pub jumps: u32,
    /// A failed run whose last finite iterate had `η·λ > 2` (the cliff only): a curvature
    /// failure, which clipping does not address.
    pub unstable: bool,
    /// The Hessian at the target, where the study measures it.
    pub curvature: Option<EndCurvature>,
}

impl ArmRun {
    /// Whether the run missed its target.
    pub fn failed(&self) -> bool {
        self.steps.is_none()
    }
}

/// Every replicate of a study: one [`ArmRun`] per arm, arms in the study's order, all from
/// the replicate's one seed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PairedRuns {
    /// Replicate-major: `runs[r][a]` is arm a of replicate r.
    pub runs: Vec<Vec<ArmRun>>,
}

impl Accumulator for PairedRuns {
    fn merge(&mut self, later: Self) {
        self.runs.extend(later.runs);
    }

    fn replicates(&self) -> u64 {
        self.runs.len() as u64
    }
}

impl PairedRuns {
    /// The runs of arm `arm`, in replicate order.
    pub fn arm(&self, arm: usize) -> impl Iterator<Item = &ArmRun> {
        self.runs.iter().map(move |r| &r[arm])
    }

    /// (failures, runs) of arm `arm`.
    pub fn failures(&self, arm: usize) -> (u64, u64) {
        let failed = self.arm(arm).filter(|r| r.failed()).count() as u64;
        (failed, self.runs.len() as u64)
    }

    /// `ln(steps_a / steps_b)` over the replicates where both arms reached the target (a
    /// target reached at the start counts one step).
    pub fn log_ratios(&self, a: usize, b: usize) -> Vec<f64> {
        self.runs
            .iter()
            .filter_map(|r| match (r[a].steps, r[b].steps) {
                (Some(x), Some(y)) => Some((x.max(1) as f64 / y.max(1) as f64).ln()),
                _ => None,
            })
            .collect()
    }

    /// Means of (λ_max, outliers, top share) over the runs of arm `arm` that measured their
    /// end curvature, with their count; `None` if none did.
    pub fn mean_curvature(&self, arm: usize) -> Option<(f64, f64, f64, u64)> {
        let measured: Vec<EndCurvature> = self.arm(arm).filter_map(|r| r.curvature).collect();
        let n = measured.len() as f64;
        (!measured.is_empty()).then(|| {
            let mean = |f: &dyn Fn(&EndCurvature) -> f64| measured.iter().map(f).sum::<f64>() / n;
            (
                mean(&|c| c.lambda_max),
                mean(&|c| f64::from(c.outliers)),
                mean(&|c| c.top_share),
                measured.len() as u64,
            )
        })
    }

    /// The median steps of arm `arm` over its successful runs.
    pub fn median_steps(&self, arm: usize) -> Option<f64> {
        let mut steps: Vec<u64> = self.arm(arm).filter_map(|r| r.steps).collect();
        if steps.is_empty() {
            return None;
        }
        steps.sort_unstable();
        let n = steps.len();
        Some(if n % 2 == 1 {
            steps[n / 2] as f64
        } else {
            0.5 * (steps[n / 2 - 1] + steps[n / 2]) as f64
        })
    }
}
