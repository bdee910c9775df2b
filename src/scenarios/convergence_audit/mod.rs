//! `convergence-audit`: claim C6 — when training looks converged, the gradient (of the output
//! layer especially) is still far from zero, even after the learning rate is lowered.
//!
//! Fully connected networks are trained on the UCI digits from many seeds; at every point
//! where training looks converged ([`crate::nets::train`]'s rule) the full Hessian is
//! computed and the end point classified: critical or not, and then minimum or saddle. The
//! nearest critical point is searched for, and the loss is sampled along the straight line
//! from the initial weights.

mod claims;
mod grid;
mod records;
mod run;
mod tables;
#[cfg(test)]
mod tests;

use toml::Table;

use super::Experiment;
use super::params::ParamError;
use crate::choice;
use crate::choice::Choice;
use crate::mc::{CellWork, Stop, StreamRng};
use crate::nets::{Activation, Dataset, Loss, Schedule, SearchSettings};
use crate::report::Report;
use crate::stats::StatsError;
pub use records::CellRuns;

choice! {
    /// The update rule a cell trains with (each with its own learning rate in the profile).
    pub enum Trainer {
        /// Full-batch gradient descent.
        Gd = "gd",
        /// Minibatch SGD (batches without replacement within an epoch).
        Sgd = "sgd",
        /// Full-batch heavy-ball momentum.
        Momentum = "momentum",
        /// Full-batch Adam.
        Adam = "adam",
    }
}

/// One grid cell: a network and how it is trained.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Case {
    width: usize,
    activation: Activation,
    weight_decay: f64,
    trainer: Trainer,
}

impl Case {
    /// The canonical text of the cell's parameters, from which its streams derive.
    fn key_text(&self) -> String {
        format!(
            "net width={} activation={} decay={:?} trainer={}",
            self.width,
            self.activation.name(),
            self.weight_decay,
            self.trainer.name()
        )
    }

    /// A short label for tables and findings, e.g. `w16 tanh wd=0.001 gd`.
    fn label(&self) -> String {
        format!(
            "w{} {} wd={} {}",
            self.width,
            self.activation.name(),
            self.weight_decay,
            self.trainer.name()
        )
    }
}

/// The resolved scenario.
pub struct ConvergenceAudit {
    cells: Vec<Case>,
    replicates: u64,
    hidden_layers: usize,
    train: Dataset,
    test: Dataset,
    loss: Loss,
    init_gain: f64,
    /// Learning rates by trainer, in [`Trainer::ALL`] order.
    learning_rates: [f64; 4],
    sgd_batch: usize,
    /// The schedule, with the method and rate filled in per cell.
    schedule: Schedule,
    history_every: u64,
    line_points: usize,
    search: SearchSettings,
    /// The search stops at `‖g‖ ≤ search_tolerance · ‖g₀‖`.
    search_tolerance: f64,
    critical_tolerance: f64,
    curvature_tolerance: f64,
    shrink_threshold: f64,
    significance: f64,
}

impl Experiment for ConvergenceAudit {
    type Accumulator = CellRuns;
    const SPEC: &'static str = include_str!("../../../scenarios/convergence-audit.toml");

    fn from_params(table: &Table) -> Result<Self, ParamError> {
        ConvergenceAudit::read(table)
    }

    fn work(&self) -> Vec<CellWork> {
        self.cells
            .iter()
            .map(|case| CellWork::keyed(&case.key_text(), self.replicates, 1))
            .collect()
    }

    fn simulate(&self, cell: usize, replicates: u64, rng: &mut StreamRng, stop: Stop) -> CellRuns {
        let mut runs = CellRuns::default();
        for _ in 0..replicates {
            if stop.requested() {
                break;
            }
            runs.runs.push(self.run_one(&self.cells[cell], rng));
        }
        runs
    }

    fn bytes_per_chunk(&self) -> u64 {
        // The widest network's dense Hessian, its eigenvectors and faer's workspace.
        let p = self
            .cells
            .iter()
            .map(|c| self.network(c).parameters() as u64)
            .max()
            .unwrap_or(0);
        4 * p * p * 8
    }

    fn report(&self, cells: &[CellRuns]) -> Result<Report, StatsError> {
        self.build_report(cells)
    }
}
