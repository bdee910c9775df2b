//! `saddle-escape`: claim C4 — plain GD is pulled into a saddle, but gradient noise knocks the
//! iterate off ("one step forward or back and you fall off"). Escape times from a quadratic
//! strict saddle, from the zero saddle of a two-layer linear network under real minibatch
//! SGD, and along a chain of saddles.

mod claims;
mod grid;
mod simulate;
mod tables;

use toml::Table;

use super::Experiment;
use super::escape::EscapeTimes;
use super::params::ParamError;
use crate::landscape::TwoLayerLinear;
use crate::landscape::escape_theory as theory;
use crate::mc::{CellWork, Stop, StreamRng};
use crate::optim::MethodName;
use crate::report::Report;
use crate::stats::StatsError;

/// A quadratic strict saddle cell: `½xᵀHx` with `negative` eigenvalues −γ and the others +1,
/// in `dimension` dimensions, left by `method` when `‖x‖ ≥ radius`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct QuadraticCell {
    method: MethodName,
    learning_rate: f64,
    gamma: f64,
    /// Gradient-noise scale of noisy GD (0 for the other methods).
    sigma: f64,
    dimension: usize,
    negative: usize,
    radius: f64,
}

/// One grid cell.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Case {
    /// A quadratic strict saddle.
    Quadratic(QuadraticCell),
    /// Two-layer linear network from an init of norm `init_scale` (0: the exact saddle).
    Net {
        batch: Option<usize>,
        init_scale: f64,
    },
    /// Chain of d saddles.
    Chain { perturbed: bool, dimension: usize },
}

impl Case {
    /// The canonical text of the cell's parameters, from which its [`crate::mc::CellKey`] (and so its
    /// random streams) derive.
    fn key_text(&self) -> String {
        match *self {
            Case::Quadratic(q) => format!(
                "quadratic method={} eta={:?} gamma={:?} sigma={:?} d={} k={} radius={:?}",
                q.method, q.learning_rate, q.gamma, q.sigma, q.dimension, q.negative, q.radius
            ),
            Case::Net { batch, init_scale } => format!(
                "net batch={} init_scale={init_scale:?}",
                batch.map_or("full".to_string(), |b| b.to_string())
            ),
            Case::Chain {
                perturbed,
                dimension,
            } => format!("chain perturbed={perturbed} d={dimension}"),
        }
    }
}

/// The chain-of-saddles settings shared by its cells.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ChainSettings {
    /// GD learning rate η.
    learning_rate: f64,
    /// Unstable curvature γ of each saddle (Hessian eigenvalue −2γ).
    gamma: f64,
    /// Stable curvature L (Hessian eigenvalue +2L).
    stiffness: f64,
    /// Initial distance δ from the first saddle.
    start: f64,
}

/// The resolved scenario.
pub struct SaddleEscape {
    cells: Vec<Case>,
    replicates: u64,
    chunk: u64,
    budget: u64,
    radius: f64,
    start_distance: f64,
    perturbation: (f64, f64),
    net: TwoLayerLinear,
    net_learning_rate: f64,
    net_radius: f64,
    chain: ChainSettings,
    chain_interval: u64,
}

impl Experiment for SaddleEscape {
    type Accumulator = EscapeTimes;
    const SPEC: &'static str = include_str!("../../../scenarios/saddle-escape.toml");

    fn from_params(table: &Table) -> Result<Self, ParamError> {
        SaddleEscape::read(table)
    }

    fn work(&self) -> Vec<CellWork> {
        self.cells
            .iter()
            .map(|case| CellWork::keyed(&case.key_text(), self.replicates, self.chunk))
            .collect()
    }

    fn simulate(
        &self,
        cell: usize,
        replicates: u64,
        rng: &mut StreamRng,
        stop: Stop,
    ) -> EscapeTimes {
        self.run_cell(cell, replicates, rng, stop)
    }

    fn report(&self, cells: &[EscapeTimes]) -> Result<Report, StatsError> {
        self.build_report(cells)
    }
}
