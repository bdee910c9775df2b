//! What the chunks of `critical-volume` produce and how they merge.

use serde::{Deserialize, Serialize};

use crate::mc::Accumulator;
use crate::stats::MeanVar;

/// Splitting runs of one cell.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SplittingRuns {
    /// `ln Ẑ` of each finished run.
    pub ln_estimates: MeanVar,
    /// Each run's variance of ln Ẑ under perfect mixing.
    pub ideal_variance: MeanVar,
    /// Stages per run.
    pub stages: MeanVar,
    /// Acceptance rate of the moves per run.
    pub acceptance: MeanVar,
    /// Runs abandoned (stage cap).
    pub diverged: u64,
    /// Network cells: loss at the final particles inside the box.
    pub inside_loss: MeanVar,
    /// Network cells: their output spread (distance to a constant-output network).
    pub inside_spread: MeanVar,
    /// Network cells: their Hessian index at 1e-3 λ_max.
    pub inside_index: MeanVar,
}

/// Optimizer trajectories of one cell.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryRuns {
    /// Trajectories run.
    pub runs: u64,
    /// Checked iterates (every `check_every` steps, the start included).
    pub checks: u64,
    /// Checked iterates inside the box.
    pub inside: u64,
    /// Trajectories that entered the box at some check.
    pub entered: u64,
    /// Step of the first entry, over the trajectories that entered.
    pub first_entry: MeanVar,
    /// Final full-batch loss of the trajectories that did not diverge.
    pub final_loss: MeanVar,
    /// Trajectories whose iterate became non-finite (stopped there; their checks count).
    pub diverged: u64,
}

/// One chunk's output of any cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum VolumeRuns {
    /// Direct draws: hits among samples.
    Direct {
        /// Draws in the box.
        hits: u64,
        /// Draws.
        samples: u64,
    },
    /// Splitting runs.
    Splitting(SplittingRuns),
    /// Trajectories.
    Trajectory(TrajectoryRuns),
}

impl Accumulator for VolumeRuns {
    fn merge(&mut self, later: Self) {
        match (self, later) {
            (
                VolumeRuns::Direct { hits, samples },
                VolumeRuns::Direct {
                    hits: h,
                    samples: s,
                },
            ) => {
                *hits += h;
                *samples += s;
            }
            (VolumeRuns::Splitting(a), VolumeRuns::Splitting(b)) => {
                a.ln_estimates.merge(&b.ln_estimates);
                a.ideal_variance.merge(&b.ideal_variance);
                a.stages.merge(&b.stages);
                a.acceptance.merge(&b.acceptance);
                a.diverged += b.diverged;
                a.inside_loss.merge(&b.inside_loss);
                a.inside_spread.merge(&b.inside_spread);
                a.inside_index.merge(&b.inside_index);
            }
            (VolumeRuns::Trajectory(a), VolumeRuns::Trajectory(b)) => {
                a.runs += b.runs;
                a.checks += b.checks;
                a.inside += b.inside;
                a.entered += b.entered;
                a.first_entry.merge(&b.first_entry);
                a.final_loss.merge(&b.final_loss);
                a.diverged += b.diverged;
            }
            _ => unreachable!("chunks of one cell produce one accumulator kind"),
        }
    }

    fn replicates(&self) -> u64 {
        match self {
            VolumeRuns::Direct { samples, .. } => *samples,
            VolumeRuns::Splitting(s) => s.ln_estimates.count() + s.diverged,
            VolumeRuns::Trajectory(t) => t.runs,
        }
    }
}
