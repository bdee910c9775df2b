//! The `well-escape` table, its reference columns (exact mean first-passage time, Kramers)
//! and the Arrhenius plot.

use super::super::escape::{ESCAPE_COLUMNS, EscapeTimes, escape_values};
use super::{Case, DISCRETE_MONITORING_SHIFT, SYMMETRIC_BARRIER, Target, WellEscape};
use crate::landscape::{
    DoubleWell, discrete_mean_exit_steps, kramers_time, mean_first_passage_time,
};
use crate::report::{DataTable, Datum, Report};
use crate::stats::{StatsError, kolmogorov_p_value, z_test};

/// The z test of a cell's mean escape time against `mean`, when its standard error is a
/// finite positive number (at least two escapes with some spread); `None` otherwise, so no
/// verdict ever rests on an infinite or undefined z.
pub(super) fn finite_z(times: &EscapeTimes, mean: f64) -> Option<crate::stats::TestOutcome> {
    let se = times.steps.standard_error();
    (times.steps.count() >= 2 && se.is_finite() && se > 0.0)
        .then(|| z_test(times.steps.mean(), mean, se))
        .filter(|z| z.statistic.is_finite())
}

/// Predicted mean escape steps of a cell.
pub(super) struct Prediction {
    /// The exact mean exit time of the discrete walk that noisy GD is
    /// ([`discrete_mean_exit_steps`]); `None` where no exact 1-D reduction holds.
    pub(super) exact: Option<f64>,
    /// The continuous-time mean first-passage time over η, level moved out by the
    /// discrete-monitoring shift (an asymptotic reference, O(η) Euler bias): wells only.
    pub(super) continuous: Option<f64>,
    /// Kramers' law over η: wells only.
    pub(super) kramers: Option<f64>,
}

/// Stable directions of the saddle may be ignored in the exit `‖x‖ ≥ R` when their stationary
/// spread `(d − 1)·η²σ²/(1 − (1 − η)²)` is below this fraction of `R²` (its effect on the
/// mean exit is then below 0.1 step at η = 0.05).
const STABLE_NOISE_ALLOWANCE: f64 = 0.01;

impl WellEscape {
    /// The table, the findings and the Arrhenius plot (`Experiment::report`).
    pub(super) fn build_report(&self, cells: &[EscapeTimes]) -> Result<Report, StatsError> {
        let mut table = DataTable::new(
            "",
            &[
                &[
                    "case",
                    "target",
                    "dimension",
                    "tilt",
                    "barrier_over_noise",
                    "noise",
                    "diffusion",
                    "learning_rate",
                ][..],
                &ESCAPE_COLUMNS[..],
                &[
                    "exact_mean_steps",
                    "continuous_mean_steps",
                    "kramers_mean_steps",
                    "z_vs_exact",
                    "ks_exponential_distance",
                    "ks_exponential_p_value",
                ][..],
            ]
            .concat(),
        );
        for (case, times) in self.cells.iter().zip(cells) {
            let prediction = self.prediction(case);
            let (name, target, dimension, tilt, ratio) = match *case {
                Case::Well {
                    dimension,
                    tilt,
                    ratio,
                    target,
                } => (
                    "well",
                    if target == Target::Barrier {
                        "barrier-top"
                    } else {
                        "other-well"
                    },
                    dimension,
                    Some(tilt),
                    ratio,
                ),
                Case::Saddle { dimension, ratio } => ("saddle", "radius", dimension, None, ratio),
            };
            let sigma = self.sigma(ratio);
            let mut row: Vec<Datum> = vec![
                name.into(),
                target.into(),
                (dimension as u64).into(),
                tilt.into(),
                ratio.into(),
                sigma.into(),
                (self.learning_rate * sigma * sigma / 2.0).into(),
                self.learning_rate.into(),
            ];
            row.extend(escape_values(times));
            let z = prediction
                .exact
                .and_then(|m| finite_z(times, m))
                .map(|z| z.statistic);
            let (ks_d, ks_p) =
                self.exponentiality(times, prediction.exact.unwrap_or(times.steps.mean()));
            row.extend([
                prediction.exact.into(),
                prediction.continuous.into(),
                prediction.kramers.into(),
                z.into(),
                ks_d.into(),
                ks_p.into(),
            ]);
            table.push(row);
        }
        Ok(Report {
            tables: vec![table],
            findings: self.findings(cells)?,
            plots: vec![self.arrhenius_plot(cells)],
        })
    }

    /// Gradient-noise scale σ giving `ΔU/D = ratio` for the untilted barrier, `D = ησ²/2`.
    pub(super) fn sigma(&self, ratio: f64) -> f64 {
        (2.0 * SYMMETRIC_BARRIER / (ratio * self.learning_rate)).sqrt()
    }

    /// The exact mean exit of the discrete walk, the continuous-time MFPT and Kramers, in
    /// steps. Wells: the walk `x ← x − η(U′(x) + σξ)` along x₁ (the other directions do not
    /// enter the exit), absorbed at the level and, harmlessly, far to the left where
    /// `U − U_min > 50 D`. Saddle: the unstable coordinate `u ← (1 + η)u − ησξ` leaving
    /// `(−R, R)`, exact in d = 1 and used in d > 1 only while the stable directions' spread
    /// is negligible (else no theory is printed).
    pub(super) fn prediction(&self, case: &Case) -> Prediction {
        let eta = self.learning_rate;
        let positive = |m: Option<f64>| m.filter(|m| m.is_finite() && *m > 0.0);
        match *case {
            Case::Well {
                dimension,
                tilt,
                ratio,
                target,
            } => {
                let well = DoubleWell::new(dimension, tilt);
                let sigma = self.sigma(ratio);
                let diffusion = eta * sigma * sigma / 2.0;
                let (start, barrier, other) = well.critical_points();
                let level = if target == Target::Barrier {
                    barrier
                } else {
                    other
                };
                let reference = well.potential(start);
                let mut left = start - 1.0;
                while well.potential(left) - reference < 50.0 * diffusion {
                    left -= 0.25;
                }
                let exact = discrete_mean_exit_steps(
                    |x| x - eta * well.slope(x),
                    eta * sigma,
                    left,
                    level,
                    start,
                );
                let shift = DISCRETE_MONITORING_SHIFT * eta * sigma;
                let continuous =
                    mean_first_passage_time(&well, diffusion, start, level + shift) / eta;
                let kramers = kramers_time(&well, diffusion) / eta
                    * if target == Target::Barrier { 0.5 } else { 1.0 };
                Prediction {
                    exact: positive(exact),
                    continuous: positive(Some(continuous)),
                    kramers: positive(Some(kramers)),
                }
            }
            Case::Saddle { dimension, ratio } => {
                let sigma = self.sigma(ratio);
                let radius = self.saddle_radius;
                let stable_spread =
                    (dimension - 1) as f64 * (eta * sigma).powi(2) / (1.0 - (1.0 - eta).powi(2));
                let exact = (stable_spread <= STABLE_NOISE_ALLOWANCE * radius * radius)
                    .then(|| {
                        discrete_mean_exit_steps(
                            |u| (1.0 + eta) * u,
                            eta * sigma,
                            -radius,
                            radius,
                            0.0,
                        )
                    })
                    .flatten();
                Prediction {
                    exact: positive(exact),
                    continuous: None,
                    kramers: None,
                }
            }
        }
    }

    /// ln(mean steps) against ΔU/D: wells (measured and exact) beside the saddle.
    fn arrhenius_plot(&self, cells: &[EscapeTimes]) -> crate::report::Plot {
        let mut plot = crate::report::Plot::new(
            "arrhenius",
            "Escape from a well vs from a saddle (mean ± 2 standard errors)",
            "barrier / noise  dU/D",
            "mean steps (log scale)",
        );
        plot.log_y = true;
        let with_bar = |times: &EscapeTimes| (times.steps.mean(), times.steps.band(2.0));
        for (case, times) in self.cells.iter().zip(cells) {
            match *case {
                Case::Well {
                    dimension,
                    tilt: 0.0,
                    ratio,
                    target: Target::OtherWell,
                } => {
                    let (mean, bar) = with_bar(times);
                    plot.add_with_interval(format!("well d={dimension}"), (ratio, mean), bar);
                    if let Some(exact) = self.prediction(case).exact {
                        plot.add_reference(format!("exact MFPT d={dimension}"), (ratio, exact));
                    }
                }
                Case::Saddle { dimension, ratio } => {
                    let (mean, bar) = with_bar(times);
                    plot.add_with_interval(format!("saddle d={dimension}"), (ratio, mean), bar);
                }
                _ => {}
            }
        }
        plot
    }

    /// KS distance of the escape times to an exponential law of the given mean, and its
    /// p-value (the distance is taken at the histogram's 2 % bin edges, a slight under-estimate).
    pub(super) fn exponentiality(&self, times: &EscapeTimes, mean: f64) -> (f64, f64) {
        let n = times.steps.count();
        if n == 0 {
            return (f64::NAN, f64::NAN);
        }
        let d = times.histogram.ks_distance(|t| 1.0 - (-t / mean).exp());
        (d, kolmogorov_p_value(d, n))
    }
}
