//! `critical-census`: claim C1 on a real loss surface — are the critical points of a trained
//! network's loss almost all saddles, minima having probability 0.5^n?
//!
//! From many starting points (fresh initialisations, points along a training trajectory,
//! points where training looked converged) a Newton-type search that converges to critical
//! points of any index is run on a one-hidden-layer network's loss on real data; every end
//! point is classified (critical, gradient-flat, stalled), its Hessian spectrum computed, and
//! the critical points are deduplicated up to the network's symmetries. Index against loss
//! is compared with Dauphin et al. (2014) and Pennington & Bahri (2017), the share of minima
//! with the essay's 0.5^n.

mod census;
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
use crate::nets::{Activation, DataName, Dataset, Loss, NewtonStep, Schedule};
use crate::report::Report;
use crate::stats::StatsError;
pub use records::CensusRuns;

choice! {
    /// Where a search starts.
    pub enum Start {
        /// A fresh initialisation.
        Init = "init",
        /// A point along a GD trajectory, after a number of epochs drawn uniformly from
        /// 1..=trajectory_epochs.
        Trajectory = "trajectory",
        /// Where GD training looked converged (the apparent-convergence rule, no drops).
        End = "end",
    }
}

choice! {
    /// How each Newton step is solved.
    pub enum Solver {
        /// MINRES on Hessian-vector products (Newton-MR, inexact).
        Minres = "minres",
        /// The exact pseudo-inverse step from the dense Hessian.
        Exact = "exact",
        /// Saddle-free Newton on the loss from the dense Hessian: descends to minima.
        SaddleFree = "saddle-free",
    }
}

/// One grid cell.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Case {
    data: DataName,
    width: usize,
    start: Start,
    solver: Solver,
}

impl Case {
    /// The canonical text of the cell's parameters, from which its streams derive.
    fn key_text(&self) -> String {
        format!(
            "census data={} width={} start={} solver={}",
            self.data.name(),
            self.width,
            self.start.name(),
            self.solver.name()
        )
    }

    /// The network's label, e.g. `digits 64-8-10`.
    fn network_label(&self, features: usize, classes: usize) -> String {
        format!("{} {features}-{}-{classes}", self.data.name(), self.width)
    }
}

/// A data set with its fixed split (only the training part is searched).
struct Data {
    name: DataName,
    train: Dataset,
}

/// The resolved scenario.
pub struct CriticalCensus {
    cells: Vec<Case>,
    data: Vec<Data>,
    replicates: u64,
    activation: Activation,
    loss: Loss,
    weight_decay: f64,
    init_gain: f64,
    learning_rate: f64,
    trajectory_epochs: u64,
    schedule: Schedule,
    iterations: usize,
    inner_iterations: usize,
    critical_tolerance: f64,
    flatness: f64,
    curvature_tolerance: f64,
    often_threshold: f64,
    significance: f64,
}

impl CriticalCensus {
    fn step(&self, solver: Solver) -> NewtonStep {
        match solver {
            Solver::Minres => NewtonStep::Minres(self.inner_iterations),
            Solver::Exact => NewtonStep::Exact,
            Solver::SaddleFree => NewtonStep::SaddleFree,
        }
    }

    fn data_of(&self, name: DataName) -> &Dataset {
        &self
            .data
            .iter()
            .find(|d| d.name == name)
            .expect("every cell's data set is loaded")
            .train
    }
}

impl Experiment for CriticalCensus {
    type Accumulator = CensusRuns;
    const SPEC: &'static str = include_str!("../../../scenarios/critical-census.toml");

    fn from_params(table: &Table) -> Result<Self, ParamError> {
        CriticalCensus::read(table)
    }

    fn work(&self) -> Vec<CellWork> {
        self.cells
            .iter()
            .map(|case| CellWork::keyed(&case.key_text(), self.replicates, 1))
            .collect()
    }

    fn simulate(
        &self,
        cell: usize,
        replicates: u64,
        rng: &mut StreamRng,
        stop: Stop,
    ) -> CensusRuns {
        let mut runs = CensusRuns::default();
        for _ in 0..replicates {
            if stop.requested() {
                break;
            }
            runs.runs.push(self.search_once(&self.cells[cell], rng));
        }
        runs
    }

    fn bytes_per_chunk(&self) -> u64 {
        let p = self
            .cells
            .iter()
            .map(|c| self.network(c).parameters() as u64)
            .max()
            .unwrap_or(0);
        4 * p * p * 8
    }

    fn report(&self, cells: &[CensusRuns]) -> Result<Report, StatsError> {
        self.build_report(cells)
    }
}
