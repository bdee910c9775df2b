//! The `saddle-escape` table, its closed-form columns and the chain plot.

use super::super::escape::{ESCAPE_COLUMNS, EscapeTimes, escape_values};
use super::{Case, QuadraticCell, SaddleEscape, theory};
use crate::choice::Choice;
use crate::landscape::{Objective, SaddleChain};
use crate::optim::MethodName;
use crate::report::{DataTable, Datum, Report};
use crate::stats::StatsError;

/// The parameter columns of one row.
struct RowParameters {
    case: &'static str,
    method: &'static str,
    dimension: usize,
    learning_rate: f64,
    curvature: Option<f64>,
    noise: Option<f64>,
    batch: Option<u64>,
    init_scale: Option<f64>,
    radius: f64,
    negative: Option<u64>,
}

impl SaddleEscape {
    /// The table, the findings and the chain plot (`Experiment::report`).
    pub(super) fn build_report(&self, cells: &[EscapeTimes]) -> Result<Report, StatsError> {
        let mut table = DataTable::new(
            "",
            &[
                &[
                    "case",
                    "method",
                    "dimension",
                    "learning_rate",
                    "curvature",
                    "noise",
                    "batch",
                    "init_scale",
                    "radius",
                    "negative_directions",
                ][..],
                &ESCAPE_COLUMNS[..],
                &[
                    "article_steps",
                    "theory_mean_steps",
                    "theory_sd_steps",
                    "theory_source",
                    "decided_by",
                ][..],
            ]
            .concat(),
        );
        for (case, times) in self.cells.iter().zip(cells) {
            let (theory_mean, theory_sd, source) = self.theory(case);
            let row_start = self.describe(case);
            let mut row: Vec<Datum> = vec![
                row_start.case.into(),
                row_start.method.into(),
                (row_start.dimension as u64).into(),
                row_start.learning_rate.into(),
                row_start.curvature.into(),
                row_start.noise.into(),
                row_start.batch.map_or(Datum::Missing, Datum::from),
                row_start.init_scale.into(),
                row_start.radius.into(),
                row_start.negative.map_or(Datum::Missing, Datum::from),
            ];
            row.extend(escape_values(times));
            row.extend([
                1.0.into(),
                theory_mean.into(),
                theory_sd.into(),
                source.into(),
                if Self::decided_analytically(case) {
                    "analysis"
                } else {
                    "simulation"
                }
                .into(),
            ]);
            table.push(row);
        }
        Ok(Report {
            tables: vec![table],
            findings: self.findings(cells)?,
            plots: vec![self.chain_plot(cells)],
        })
    }

    /// (mean, sd, source) of the closed form for a quadratic cell, where there is one.
    fn quadratic_theory(&self, q: &QuadraticCell) -> (Option<f64>, Option<f64>, &'static str) {
        match q.method {
            MethodName::Gd => (
                theory::gd_steps(q.learning_rate, q.gamma, q.radius, self.start_distance),
                Some(0.0),
                "exact: ceil(ln(R/delta)/ln(1+eta gamma))",
            ),
            MethodName::NoisyGd => {
                let (m, s) =
                    theory::noisy_gd_steps(q.learning_rate, q.gamma, q.sigma, q.radius, q.negative);
                (
                    Some(m),
                    Some(s),
                    "AR(1): [ln(R/s) - (ln2 + psi(k/2))/2]/ln a + 1/2",
                )
            }
            MethodName::PerturbedGd => (
                Some(theory::perturbed_gd_steps(
                    q.learning_rate,
                    q.gamma,
                    q.radius,
                    self.perturbation.0,
                    q.dimension,
                    q.negative,
                )),
                None,
                "one ball perturbation, then GD",
            ),
            MethodName::Momentum | MethodName::Adam | MethodName::RmsProp => {
                (None, None, "no closed form")
            }
        }
    }

    fn describe(&self, case: &Case) -> RowParameters {
        match *case {
            Case::Quadratic(q) => RowParameters {
                case: "quadratic",
                method: q.method.name(),
                dimension: q.dimension,
                learning_rate: q.learning_rate,
                curvature: Some(q.gamma),
                noise: (q.method == MethodName::NoisyGd).then_some(q.sigma),
                batch: None,
                init_scale: None,
                radius: q.radius,
                negative: Some(q.negative as u64),
            },
            Case::Net { batch, init_scale } => RowParameters {
                case: "linear-net",
                method: if batch.is_some() { "sgd" } else { "gd" },
                dimension: self.net.dimension(),
                learning_rate: self.net_learning_rate,
                curvature: Some(self.net.saddle_negative_curvature()),
                noise: None,
                batch: Some(batch.unwrap_or(self.net.examples()) as u64),
                init_scale: Some(init_scale),
                radius: self.net_radius,
                negative: None,
            },
            Case::Chain {
                perturbed,
                dimension,
            } => RowParameters {
                case: "chain",
                method: if perturbed { "perturbed-gd" } else { "gd" },
                dimension,
                learning_rate: self.chain.learning_rate,
                curvature: Some(2.0 * self.chain.gamma),
                noise: None,
                batch: None,
                init_scale: Some(self.chain.start),
                radius: self.radius,
                negative: Some(1),
            },
        }
    }

    /// Mean steps (± 2 standard errors) to cross a chain of d saddles, GD against perturbed
    /// GD, on a logarithmic axis, with GD's exact crossing time (computed in log space) dashed.
    fn chain_plot(&self, cells: &[EscapeTimes]) -> crate::report::Plot {
        let mut plot = crate::report::Plot::new(
            "chain",
            "Crossing a chain of saddles",
            "saddles d",
            "mean steps (± 2 SE)",
        );
        plot.log_y = true;
        for (case, times) in self.cells.iter().zip(cells) {
            if let Case::Chain {
                perturbed,
                dimension,
            } = case
            {
                let d = *dimension as f64;
                if let (false, (Some(t), _, _)) = (*perturbed, self.theory(case)) {
                    plot.add_reference("GD exact (log space)", (d, t));
                }
                if times.steps.count() == 0 {
                    continue;
                }
                let label = if *perturbed {
                    "perturbed GD"
                } else {
                    "GD (f64, until underflow)"
                };
                plot.add_with_interval(label, (d, times.steps.mean()), times.steps.band(2.0));
            }
        }
        plot
    }

    /// Whether a cell's runs are decided by an argument rather than simulated: the network at
    /// exactly W₁ = W₂ = 0, where every per-example gradient vanishes, so no GD or SGD run
    /// can move (each run is recorded as censored without stepping).
    pub(super) fn decided_analytically(case: &Case) -> bool {
        matches!(case, Case::Net { init_scale, .. } if *init_scale == 0.0)
    }

    /// (mean, sd, source) of the closed form for a cell, where there is one.
    pub(super) fn theory(&self, case: &Case) -> (Option<f64>, Option<f64>, &'static str) {
        match *case {
            Case::Quadratic(q) => self.quadratic_theory(&q),
            Case::Net {
                init_scale: 0.0, ..
            } => (
                None,
                None,
                "never: every per-example gradient vanishes at 0",
            ),
            Case::Net { .. } => (None, None, "no closed form (nonlinear)"),
            Case::Chain {
                perturbed: false,
                dimension,
            } => {
                let c = self.chain;
                let chain = SaddleChain::new(dimension, c.gamma, c.stiffness, self.radius);
                (
                    chain.gd_exit_time_log_space(&vec![c.start * 0.75; dimension], c.learning_rate),
                    None,
                    "log-space GD from |x_j| = 0.75 delta (Du et al. 2017)",
                )
            }
            Case::Chain { .. } => (None, None, "linear in d (Jin et al. 2017)"),
        }
    }
}
