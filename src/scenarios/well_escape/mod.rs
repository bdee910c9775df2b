//! `well-escape`: claim C5 — a local minimum is a well that gradient descent keeps pulling
//! you back into; you leave it only by being "wrong many times in a row". Exit times of noisy
//! GD from a double well against the barrier height over the noise (Kramers/Arrhenius),
//! beside the exit from a strict saddle at the same noise: logarithmic and concentrated there,
//! exponential and memoryless here.

mod claims;
mod grid;
mod simulate;
mod tables;

use toml::Table;

use super::Experiment;
use super::escape::EscapeTimes;
use super::params::ParamError;
use crate::mc::{CellWork, Stop, StreamRng};
use crate::report::Report;
use crate::stats::StatsError;

/// Barrier of the untilted well, `U(0) − U(±1) = 1/4`; the noise of a cell is set from it.
const SYMMETRIC_BARRIER: f64 = 0.25;

/// Brownian-bridge correction for a discretely monitored first passage (Broadie, Glasserman &
/// Kou, *Math. Finance* 7, 325, 1997): a walk with step sd s checked once per step behaves
/// like the continuous one with the level moved out by `−ζ(1/2)/√(2π)·s ≈ 0.5826·s`.
const DISCRETE_MONITORING_SHIFT: f64 = 0.582_597_157_939_01;

/// The largest noise per step `ησ` accepted: half the distance from a minimum to the barrier
/// top. Beyond it one kick crosses the barrier and neither Kramers nor the diffusion limit
/// describes the walk.
const MAX_STEP_NOISE: f64 = 0.5;

/// The noise per step `ησ` at barrier ratio `ΔU/D = ratio`, with `D = ησ²/2`.
fn step_noise(learning_rate: f64, ratio: f64) -> f64 {
    (2.0 * SYMMETRIC_BARRIER * learning_rate / ratio).sqrt()
}

/// Where a run counts as escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]

enum Target {
    /// x₁ reaches the barrier top.
    Barrier,
    /// x₁ reaches the other minimum.
    OtherWell,
}

/// One grid cell.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Case {
    /// Noisy GD from the left minimum of a double well.
    Well {
        dimension: usize,
        tilt: f64,
        ratio: f64,
        target: Target,
    },
    /// Noisy GD from a strict saddle with curvature −1, at the noise of barrier ratio `ratio`.
    Saddle { dimension: usize, ratio: f64 },
}

impl Case {
    /// The canonical text of the cell's parameters, from which its [`crate::mc::CellKey`] (and so its
    /// random streams) derive.
    fn key_text(&self) -> String {
        match *self {
            Case::Well {
                dimension,
                tilt,
                ratio,
                target,
            } => format!(
                "well d={dimension} tilt={tilt:?} ratio={ratio:?} target={}",
                if target == Target::Barrier {
                    "barrier-top"
                } else {
                    "other-well"
                }
            ),
            Case::Saddle { dimension, ratio } => format!("saddle d={dimension} ratio={ratio:?}"),
        }
    }
}

/// The resolved scenario.
pub struct WellEscape {
    cells: Vec<Case>,
    replicates: u64,
    chunk: u64,
    budget: u64,
    learning_rate: f64,
    saddle_radius: f64,
    significance: f64,
}

impl Experiment for WellEscape {
    type Accumulator = EscapeTimes;
    const SPEC: &'static str = include_str!("../../../scenarios/well-escape.toml");

    fn from_params(table: &Table) -> Result<Self, ParamError> {
        WellEscape::read(table)
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
