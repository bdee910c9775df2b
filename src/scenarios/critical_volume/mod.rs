//! `critical-volume`: claim C3 — how much of parameter space is near a critical point?
//!
//! The essay: if one partial derivative is near zero with probability p, all n are with
//! probability pⁿ. That holds exactly when the partial derivatives are independent. The
//! scenario estimates `P(|∂ᵢf| < τᵢ for all i)` at random points, each τᵢ set so that the
//! marginal is p, on gradient laws where the answer is known exactly (independent,
//! equicorrelated, scale-mixed Gaussian components), on random-feature landscapes, and on a
//! real network at its initialisation; and compares the random points with the points an
//! optimizer visits. Direct sampling where P can be counted, adaptive multilevel splitting
//! ([`crate::landscape::BoxSplitting`]) beyond.

mod cells;
mod claims;
mod figures;
mod network;
mod records;
mod simulate;
mod tables;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use toml::Table;

use super::Experiment;
use super::params::{ParamError, ParamReader};
use crate::choice::Choice;
use crate::landscape::BoxSplitting;
use crate::mc::{CellWork, Stop, StreamRng, chunk_stream};
use crate::nets::{Activation, DataName, Dataset, Loss, Mlp};
use crate::report::Report;
use crate::stats::StatsError;
use cells::{Cell, Init, LawName, Method, OptimizerName, Synthetic};
use network::{Calibration, NetworkGradient};
pub use records::VolumeRuns;

/// A network whose boxes are calibrated once and shared by its splitting and trajectory
/// cells.
#[derive(Debug, Clone, Copy, PartialEq)]
struct NetworkSpec {
    width: usize,
    init: Init,
    p: f64,
}

/// How the optimizers of the trajectory cells run.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Trajectories {
    steps: u64,
    check_every: u64,
    learning_rate: f64,
    batch: usize,
}

/// The resolved scenario.
pub struct CriticalVolume {
    cells: Vec<Cell>,
    work: Vec<CellWork>,
    synthetic: BoxSplitting,
    network: BoxSplitting,
    networks: Vec<NetworkSpec>,
    calibrations: Vec<OnceLock<Calibration>>,
    thresholds: Vec<OnceLock<(f64, f64)>>,
    feature_pilot_samples: usize,
    data: Dataset,
    small_gain: f64,
    pilot_samples: usize,
    pilot_seed: u64,
    inside_samples: usize,
    trajectories: Trajectories,
    confidence: f64,
    significance: f64,
    rare_log10: f64,
}

impl CriticalVolume {
    fn read(table: &Table) -> Result<Self, ParamError> {
        let mut r = ParamReader::new(table);
        let laws = r.choices_of("laws", LawName::ALL, true)?;
        let probabilities = r.number_list("probabilities", 0.0..=1.0, true)?;
        let dims = r.integer_list("dims", 1..=5000)?;
        let correlations = r.number_list("correlations", 0.0..=1.0, true)?;
        let dofs = r.integer_list("mixture_dofs", 1..=100_000)?;
        let feature_counts = r.integer_list("feature_counts", 1..=100_000)?;
        let feature_dims = r.integer_list("feature_dims", 1..=5000)?;
        let direct_dims = r.integer_list("direct_dims", 1..=50)?;
        let direct_samples = r.integer("direct_samples", 1..=1_000_000_000_000)?;
        let chunk = r.integer("chunk", 1..=1_000_000_000)?;
        let runs = r.integer("runs", 2..=100_000)?;
        let synthetic = BoxSplitting {
            particles: r.integer("particles", 4..=1_000_000)? as usize,
            survival: r.number("survival", 0.05..=0.95, false)?,
            sweeps: r.number("sweeps", 0.0..=1000.0, true)?,
            block: r.integer("block", 1..=1000)? as usize,
            target_acceptance: r.number("target_acceptance", 0.05..=0.95, false)?,
        };
        let mixing_dim = r.integer("mixing_dim", 1..=5000)?;
        let mixing_sweeps = r.number_list("mixing_sweeps", 0.0..=1000.0, true)?;
        let widths = r.integer_list("network_widths", 1..=64)?;
        let network_probabilities = r.number_list("network_probabilities", 0.0..=1.0, true)?;
        let inits = r.choices_of("inits", Init::ALL, true)?;
        let network_runs = r.integer("network_runs", 2..=100_000)?;
        let network = BoxSplitting {
            particles: r.integer("network_particles", 4..=100_000)? as usize,
            sweeps: r.number("network_sweeps", 0.0..=1000.0, true)?,
            block: r.integer("network_block", 1..=1000)? as usize,
            target_acceptance: r.number("network_target_acceptance", 0.05..=0.95, false)?,
            ..synthetic
        };
        let optimizers = r.choices_of("optimizers", OptimizerName::ALL, true)?;
        let trajectory_runs = r.integer("trajectory_runs", 1..=100_000)?;
        let trajectories = Trajectories {
            steps: r.integer("trajectory_steps", 1..=10_000_000)?,
            check_every: r.integer("check_every", 1..=10_000_000)?,
            learning_rate: r.number("learning_rate", 0.0..=100.0, true)?,
            batch: r.integer("batch", 1..=100_000)? as usize,
        };
        let examples = r.integer("examples", 10..=1797)? as usize;
        let split_seed = r.integer("split_seed", 0..=u64::MAX)?;
        let digits = Dataset::named(DataName::Digits);
        let test_fraction = 1.0 - examples as f64 / digits.examples() as f64;
        let data = digits
            .split(
                test_fraction,
                &mut chunk_stream(split_seed, "critical-volume data", 0, 0),
            )
            .train;

        let mut cells = Vec::new();
        for &law in &laws {
            let variants: Vec<(Synthetic, &[u64])> = match law {
                LawName::Independent => vec![(Synthetic::Independent, &dims)],
                LawName::Equicorrelated => correlations
                    .iter()
                    .map(|&rho| (Synthetic::Equicorrelated { rho }, dims.as_slice()))
                    .collect(),
                LawName::ScaleMixture => dofs
                    .iter()
                    .map(|&m| (Synthetic::ScaleMixture { m: m as usize }, dims.as_slice()))
                    .collect(),
                LawName::Features => feature_counts
                    .iter()
                    .map(|&k| {
                        (
                            Synthetic::Features { k: k as usize },
                            feature_dims.as_slice(),
                        )
                    })
                    .collect(),
            };
            for (variant, ns) in variants {
                for &p in &probabilities {
                    for &n in &direct_dims {
                        cells.push(Cell::Synthetic {
                            law: variant,
                            n: n as usize,
                            p,
                            method: Method::Direct,
                            sweeps: 0.0,
                        });
                    }
                    for &n in ns {
                        cells.push(Cell::Synthetic {
                            law: variant,
                            n: n as usize,
                            p,
                            method: Method::Splitting,
                            sweeps: synthetic.sweeps,
                        });
                    }
                    if variant.exact() {
                        for &sweeps in mixing_sweeps.iter().filter(|&&s| s != synthetic.sweeps) {
                            cells.push(Cell::Synthetic {
                                law: variant,
                                n: mixing_dim as usize,
                                p,
                                method: Method::Splitting,
                                sweeps,
                            });
                        }
                    }
                }
            }
        }
        let mut networks = Vec::new();
        for &width in &widths {
            for &init in &inits {
                for &p in &network_probabilities {
                    let spec = NetworkSpec {
                        width: width as usize,
                        init,
                        p,
                    };
                    let id = networks.len();
                    networks.push(spec);
                    cells.push(Cell::Network { id });
                    for &optimizer in &optimizers {
                        cells.push(Cell::Trajectory { id, optimizer });
                    }
                }
            }
        }
        let experiment = CriticalVolume {
            work: Vec::new(),
            synthetic,
            network,
            calibrations: networks.iter().map(|_| OnceLock::new()).collect(),
            thresholds: cells.iter().map(|_| OnceLock::new()).collect(),
            feature_pilot_samples: r.integer("feature_pilot_samples", 20..=100_000_000)? as usize,
            networks,
            data,
            small_gain: r.number("small_gain", 0.0..=10.0, true)?,
            pilot_samples: r.integer("pilot_samples", 20..=10_000_000)? as usize,
            pilot_seed: r.integer("pilot_seed", 0..=u64::MAX)?,
            inside_samples: r.integer("inside_samples", 0..=10_000)? as usize,
            trajectories,
            confidence: r.number("confidence", 0.0..=1.0, true)?,
            significance: r.number("significance", 0.0..=0.5, true)?,
            rare_log10: r.number("rare_log10", -1e6..=0.0, false)?,
            cells,
        };
        r.finish("critical-volume")?;
        if experiment.cells.is_empty() {
            return Err(ParamError::Invalid {
                key: "laws".into(),
                expected: "or `network_widths` to give at least one cell".into(),
                got: "no cells".into(),
            });
        }
        let work = experiment
            .cells
            .iter()
            .map(|cell| {
                let (replicates, chunk) = match cell {
                    Cell::Synthetic {
                        method: Method::Direct,
                        ..
                    } => (direct_samples, chunk),
                    Cell::Synthetic { .. } => (runs, 1),
                    Cell::Network { .. } => (network_runs, 1),
                    Cell::Trajectory { .. } => (trajectory_runs, 1),
                };
                CellWork::keyed(&experiment.key_text(cell), replicates, chunk)
            })
            .collect();
        Ok(CriticalVolume { work, ..experiment })
    }

    /// The canonical text of a cell's parameters, from which its streams derive.
    fn key_text(&self, cell: &Cell) -> String {
        match *cell {
            Cell::Synthetic {
                law,
                n,
                p,
                method,
                sweeps,
            } => format!(
                "volume {} n={n} p={p} method={} sweeps={sweeps}",
                law.label(),
                method.name()
            ),
            Cell::Network { id } => format!("volume network {}", self.network_key(id)),
            Cell::Trajectory { id, optimizer } => format!(
                "volume trajectory {} optimizer={}",
                self.network_key(id),
                optimizer.name()
            ),
        }
    }

    fn network_key(&self, id: usize) -> String {
        let s = self.networks[id];
        format!("width={} init={} p={}", s.width, s.init.name(), s.p)
    }

    /// The network of a spec: digits 64-width-10, tanh, cross-entropy, no weight decay.
    fn mlp(&self, id: usize) -> Mlp {
        let width = self.networks[id].width;
        Mlp::new(
            &[self.data.features, width, self.data.classes],
            Activation::Tanh,
            Loss::CrossEntropy,
            0.0,
        )
    }

    /// The box half-width τ of synthetic cell `index` and the relative standard deviation
    /// its calibration leaves on p (0 where the marginal law is known exactly).
    fn synthetic_threshold(&self, index: usize) -> (f64, f64) {
        *self.thresholds[index].get_or_init(|| match self.cells[index] {
            Cell::Synthetic {
                law: Synthetic::Features { k },
                p,
                ..
            } => simulate::feature_threshold(k, p, self.feature_pilot_samples, self.pilot_seed),
            Cell::Synthetic { law, p, .. } => (law.threshold(p).unwrap_or(f64::NAN), 0.0),
            _ => (f64::NAN, 0.0),
        })
    }

    fn gain(&self, init: Init) -> f64 {
        match init {
            Init::Glorot => 1.0,
            Init::Small => self.small_gain,
        }
    }

    /// The network's calibrated law and boxes (the pilot runs once per network, from the
    /// stream `pilot_seed`, whatever the run's seed: the boxes are part of the question).
    fn calibrated<'a>(&'a self, id: usize, net: &'a Mlp) -> (NetworkGradient<'a>, &'a Calibration) {
        let spec = self.networks[id];
        let full = NetworkGradient::new(net, &self.data, self.gain(spec.init));
        let stored = self.calibrations[id].get_or_init(|| {
            let mut rng = chunk_stream(
                self.pilot_seed,
                &format!("critical-volume pilot {}", self.network_key(id)),
                0,
                0,
            );
            full.calibrate(spec.p, self.pilot_samples, &mut rng)
        });
        (full.restricted(&stored.live), stored)
    }
}

impl Experiment for CriticalVolume {
    type Accumulator = VolumeRuns;
    const SPEC: &'static str = include_str!("../../../scenarios/critical-volume.toml");

    fn from_params(table: &Table) -> Result<Self, ParamError> {
        CriticalVolume::read(table)
    }

    fn work(&self) -> Vec<CellWork> {
        self.work.clone()
    }

    fn simulate(
        &self,
        cell: usize,
        replicates: u64,
        rng: &mut StreamRng,
        stop: Stop,
    ) -> VolumeRuns {
        simulate::simulate(self, cell, replicates, rng, stop)
    }

    /// Splitting holds two `particles × L` latent arrays; the feature landscapes have
    /// `L = K(n + 3)`.
    fn bytes_per_chunk(&self) -> u64 {
        let particles = self.synthetic.particles as u64;
        self.cells
            .iter()
            .map(|c| match *c {
                Cell::Synthetic { law, n, .. } => 2 * 8 * particles * law.latent_len(n) as u64,
                _ => 0,
            })
            .max()
            .unwrap_or(0)
    }

    fn report(&self, cells: &[VolumeRuns]) -> Result<Report, StatsError> {
        let rows = claims::rows(self, cells)?;
        let (trajectory_table, trajectory_findings) = tables::trajectory_table(self, cells, &rows)?;
        let mut findings = claims::findings(self, &rows)?;
        findings.extend(trajectory_findings);
        Ok(Report {
            tables: vec![
                tables::main_table(&rows, self.confidence)?,
                tables::network_table(self, cells),
                trajectory_table,
            ],
            findings,
            plots: [figures::volume_plot(self, &rows, cells, self.confidence)?]
                .into_iter()
                .chain(figures::excess_plots(self, &rows, cells, self.confidence)?)
                .collect(),
        })
    }
}
