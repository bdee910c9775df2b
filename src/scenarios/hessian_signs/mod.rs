//! `hessian-signs`: claims C1 (a critical point is a minimum with probability 0.5^n) and C2
//! (so reaching a minimum takes about 2^n critical points), for the article's model and for
//! Hessian models with correlated eigenvalues, far into the tail.

mod claims;
mod estimates;
mod model;
mod tables;
mod theory;

use toml::Table;

use super::Experiment;
use super::params::{ParamError, ParamReader};
use crate::choice::Choice;
use crate::mc::{CellKey, CellWork, Stop, StreamRng};
use crate::report::Report;
use crate::stats::StatsError;
use model::{Cell, CellAccumulator, Estimators, Method, Model};

crate::choice! {
    /// A Hessian ensemble as the `ensembles` and `tail_ensembles` parameters name it.
    enum Ensemble {
        /// The article's independent signs.
        Coin = "coin",
        /// GOE, tridiagonal model.
        Goe = "goe",
        /// GOE, dense.
        GoeDense = "goe-dense",
        /// Wigner matrices over `variance_ratios`.
        Wigner = "wigner",
        /// Shifted Wishart matrices over `wishart_aspects` × `wishart_shifts`.
        Wishart = "wishart",
        /// Hessians at critical points of an isotropic Gaussian field.
        GaussianField = "gaussian-field",
    }
}

crate::choice! {
    /// An ensemble with a rare-event estimator, as `tail_ensembles` names it.
    enum TailEnsemble {
        /// GOE, by splitting on the smallest eigenvalue.
        Goe = "goe",
        /// The Gaussian field, by its exact reduction to a GOE of dimension n + 1.
        GaussianField = "gaussian-field",
    }
}

crate::choice! {
    /// What the direct cells record (`measure`).
    enum Measure {
        /// The full index (number of negative eigenvalues).
        Index = "index",
        /// Only whether the matrix is positive definite.
        PMin = "p-min",
    }
}

/// The resolved scenario: its grid of cells and the settings of its estimators and tests.
#[derive(Debug, Clone, PartialEq)]
pub struct HessianSigns {
    cells: Vec<Cell>,
    work: Vec<CellWork>,
    estimators: Estimators,
    confidence: f64,
    significance: f64,
    step_budget: f64,
    extrapolate_to: u64,
    fit_min_dim: u64,
}

impl Experiment for HessianSigns {
    type Accumulator = CellAccumulator;
    const SPEC: &'static str = include_str!("../../../scenarios/hessian-signs.toml");

    fn from_params(table: &Table) -> Result<Self, ParamError> {
        let mut p = ParamReader::new(table);
        let ensembles = p.choices_of("ensembles", Ensemble::ALL, true)?;
        let dims = p.integer_list("dims", 1..=200)?;
        let replicates = p.integer("replicates", 1..=1_000_000_000_000)?;
        let dense_replicates = p.integer("dense_replicates", 1..=1_000_000_000_000)?;
        let chunk = p.integer("chunk", 1..=1_000_000_000)?;
        let full_index = p.choice_of("measure", Measure::ALL)? == Measure::Index;
        let ratios = p.number_list("variance_ratios", 0.0..=1e12, true)?;
        let aspects = p.number_list("wishart_aspects", 0.0..=1e3, true)?;
        let shifts = p.number_list("wishart_shifts", -1e3..=1e3, false)?;
        let tail_ensembles = p.choices_of("tail_ensembles", TailEnsemble::ALL, true)?;
        let variance_dims = p.integer_list("index_variance_dims", 1..=400)?;
        let tail_dims = p.integer_list("tail_dims", 1..=400)?;
        let tail_runs = p.integer("tail_runs", 2..=1_000_000)?;
        let field_samples = p.integer("tail_field_samples", 1..=1_000_000_000_000)?;
        let estimators = Estimators {
            full_index,
            particles: p.integer("particles", 10..=1_000_000)? as usize,
            survival: p.number("survival", 0.05..=0.95, false)?,
            sweeps: p.integer("sweeps", 1..=100)? as usize,
        };
        let mut cells = Vec::new();
        let mut work = Vec::new();
        let mut add = |model: Model, n: u64, method: Method, replicates: u64, chunk: u64| {
            cells.push(Cell { model, n, method });
            let key = CellKey::new(&format!("{} n={n} method={}", model.label(), method.name()));
            work.push(CellWork {
                replicates,
                chunk,
                key,
            });
        };
        for &ensemble in &ensembles {
            let models: Vec<(Model, u64)> = match ensemble {
                Ensemble::Coin => vec![(Model::Coin, replicates)],
                Ensemble::Goe => vec![(Model::Goe, replicates)],
                Ensemble::GoeDense => vec![(Model::GoeDense, dense_replicates)],
                Ensemble::Wigner => ratios
                    .iter()
                    .map(|&ratio| (Model::Wigner { ratio }, dense_replicates))
                    .collect(),
                Ensemble::Wishart => aspects
                    .iter()
                    .flat_map(|&aspect| {
                        shifts
                            .iter()
                            .map(move |&shift| (Model::Wishart { aspect, shift }, dense_replicates))
                    })
                    .collect(),
                Ensemble::GaussianField => vec![(Model::GaussianField, replicates)],
            };
            for (model, count) in models {
                for &n in &dims {
                    add(model, n, Method::Direct, count, chunk);
                }
                if model == Model::Goe && full_index {
                    for &n in variance_dims.iter().filter(|n| !dims.contains(n)) {
                        add(model, n, Method::Direct, count, chunk);
                    }
                }
            }
        }
        for &ensemble in &tail_ensembles {
            for &n in &tail_dims {
                match ensemble {
                    TailEnsemble::Goe => add(Model::Goe, n, Method::Splitting, tail_runs, 1),
                    TailEnsemble::GaussianField => add(
                        Model::GaussianField,
                        n,
                        Method::GoeReduction,
                        field_samples,
                        chunk,
                    ),
                }
            }
        }
        let experiment = HessianSigns {
            cells,
            work,
            estimators,
            confidence: p.number("confidence", 0.0..=1.0, true)?,
            significance: p.number("significance", 0.0..=0.5, true)?,
            step_budget: p.number("step_budget", 1.0..=1e300, false)?,
            extrapolate_to: p.integer("extrapolate_to", 1..=1_000_000)?,
            fit_min_dim: p.integer("fit_min_dim", 1..=400)?,
        };
        p.finish("hessian-signs")?;
        if experiment.cells.is_empty() {
            return Err(ParamError::Invalid {
                key: "ensembles".into(),
                expected: "or `tail_ensembles` must name at least one ensemble".into(),
                got: "both empty".into(),
            });
        }
        Ok(experiment)
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
    ) -> CellAccumulator {
        model::simulate(&self.cells[cell], &self.estimators, replicates, rng, stop)
    }

    /// A splitting run holds four `particles × n` arrays of f64 (the tridiagonal matrices and
    /// their spares, see [`crate::landscape::WallSplitting`]).
    fn bytes_per_chunk(&self) -> u64 {
        let particles = self.estimators.particles as u64;
        self.cells
            .iter()
            .filter(|c| c.method == Method::Splitting)
            .map(|c| 4 * 8 * particles.saturating_mul(c.n) + 8 * particles)
            .max()
            .unwrap_or(0)
    }

    fn report(&self, accumulators: &[CellAccumulator]) -> Result<Report, StatsError> {
        let level = self.significance / self.cells.len() as f64;
        let rows = self
            .cells
            .iter()
            .zip(accumulators)
            .map(|(cell, acc)| {
                estimates::estimate(
                    cell,
                    acc,
                    self.estimators.full_index,
                    self.confidence,
                    level,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let fits = claims::tail_fits(self, &rows)?;
        Ok(Report {
            tables: vec![
                tables::main_table(self, &rows),
                tables::histogram_table(&rows),
                tables::fit_table(&fits),
            ],
            findings: claims::findings(self, &rows, &fits)?,
            plots: std::iter::once(tables::ln_p_plot(&rows))
                .chain(tables::index_law_plot(&rows, self.confidence)?)
                .collect(),
        })
    }
}
