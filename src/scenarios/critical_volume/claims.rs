//! Estimates of `critical-volume` (one row per synthetic or network cell) and the verdicts
//! on claim C3.

use std::f64::consts::LN_10;

use super::CriticalVolume;
use super::cells::{Cell, Method, Synthetic};
use super::records::VolumeRuns;
use crate::choice::Choice;
use crate::landscape::{FeatureGradient, gaussian_box_threshold};
use crate::report::{Finding, Verdict, plus_minus, short};
use crate::stats::{StatsError, studentised_error_test, two_sided_z, z_test};

/// The estimate of one synthetic or network cell beside the essay and the exact value.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Cell index.
    pub cell: usize,
    /// E.g. `equicorrelated rho=0.1` or `digits 64-4-10 glorot`.
    pub landscape: String,
    /// Whether the row is a network.
    pub network: bool,
    /// Components n (live partial derivatives for a network).
    pub n: usize,
    /// Marginal probability per component.
    pub p: f64,
    /// `direct` or `splitting`.
    pub method: Method,
    /// Splitting sweeps per stage.
    pub sweeps: f64,
    /// Runs (splitting) or draws (direct).
    pub samples: u64,
    /// Estimate of ln P: `ln(hits/N)` for direct cells; for splitting the runs' mean
    /// `ln Ẑ` plus half the ideal variance (see [`Row::raw_mean`]).
    pub ln_p: f64,
    /// Its standard error (the runs' spread, or the binomial delta method).
    pub se: f64,
    /// Splitting: the runs' mean `ln Ẑ` before the log-normal correction. Ẑ is unbiased for
    /// P, so with `ln Ẑ ~ N(μ, σ²)` the mean of ln Ẑ is `ln P − σ²/2`; σ² is taken as the
    /// ideal variance (Cérou, Guyader, Lelièvre & Pommier, *J. Chem. Phys.* 134, 054108,
    /// 2011; Bréhier, Gazeau, Goudenège, Lelièvre & Rousset, *Ann. Appl. Probab.* 26, 3559,
    /// 2016).
    pub raw_mean: f64,
    /// Standard deviation of ln Ẑ across runs.
    pub sd_runs: f64,
    /// Its value under perfect mixing.
    pub sd_ideal: f64,
    /// Mean acceptance of the moves.
    pub acceptance: f64,
    /// Mean stages per run.
    pub stages: f64,
    /// Abandoned runs.
    pub diverged: u64,
    /// The exact ln P, if known.
    pub exact: Option<f64>,
    /// The essay's `n ln p`.
    pub essay: f64,
    /// Standard deviation of the reference `n ln p` from the calibration of the boxes.
    pub reference_sd: f64,
}

impl Row {
    /// `log₁₀(P/pⁿ)` and its confidence interval (estimate and calibration errors).
    pub fn excess(&self, z: f64) -> (f64, f64, f64) {
        let sd = self.se.hypot(self.reference_sd);
        let excess = (self.ln_p - self.essay) / LN_10;
        (excess, excess - z * sd / LN_10, excess + z * sd / LN_10)
    }

    /// Two-sided z test of ln P against `n ln p`.
    pub fn essay_test(&self) -> f64 {
        z_test(self.ln_p, self.essay, self.se.hypot(self.reference_sd)).p_value
    }
}

/// One row per synthetic and network cell (trajectory cells are reported beside their
/// network, see [`super::tables::trajectory_table`]).
pub fn rows(exp: &CriticalVolume, cells: &[VolumeRuns]) -> Result<Vec<Row>, StatsError> {
    let mut rows = Vec::new();
    for (index, (cell, runs)) in exp.cells.iter().zip(cells).enumerate() {
        let (landscape, network, n, p, method, sweeps, exact, reference_sd) = match *cell {
            Cell::Synthetic {
                law,
                n,
                p,
                method,
                sweeps,
            } => {
                let relative = exp.synthetic_threshold(index).1;
                (
                    law.label(),
                    false,
                    n,
                    p,
                    method,
                    sweeps,
                    law.exact_ln_p(n, p),
                    n as f64 * relative,
                )
            }
            Cell::Network { id } => {
                let net = exp.mlp(id);
                let (_, calibration) = exp.calibrated(id, &net);
                let spec = exp.networks[id];
                (
                    format!(
                        "digits {}-{}-{} {}",
                        exp.data.features,
                        spec.width,
                        exp.data.classes,
                        spec.init.name()
                    ),
                    true,
                    calibration.thresholds.len(),
                    spec.p,
                    Method::Splitting,
                    exp.network.sweeps,
                    None,
                    calibration.reference_sd(spec.p),
                )
            }
            Cell::Trajectory { .. } => continue,
        };
        let mut row = Row {
            cell: index,
            landscape,
            network,
            n,
            p,
            method,
            sweeps,
            samples: 0,
            ln_p: f64::NAN,
            se: f64::NAN,
            raw_mean: f64::NAN,
            sd_runs: f64::NAN,
            sd_ideal: f64::NAN,
            acceptance: f64::NAN,
            stages: f64::NAN,
            diverged: 0,
            exact,
            essay: n as f64 * p.ln(),
            reference_sd,
        };
        match runs {
            VolumeRuns::Direct { hits, samples } => {
                row.samples = *samples;
                if *hits > 0 {
                    let estimate = *hits as f64 / *samples as f64;
                    row.ln_p = estimate.ln();
                    // Delta method: se(ln P̂) = √((1 − P̂)/hits).
                    row.se = ((1.0 - estimate) / *hits as f64).sqrt();
                }
            }
            VolumeRuns::Splitting(s) => {
                row.samples = s.ln_estimates.count();
                row.diverged = s.diverged;
                if row.samples >= 2 {
                    row.raw_mean = s.ln_estimates.mean();
                    row.ln_p = row.raw_mean + 0.5 * s.ideal_variance.mean();
                    row.se = s.ln_estimates.standard_error();
                    row.sd_runs = s.ln_estimates.sample_sd();
                    row.sd_ideal = s.ideal_variance.mean().sqrt();
                    row.acceptance = s.acceptance.mean();
                    row.stages = s.stages.mean();
                }
            }
            VolumeRuns::Trajectory(_) => {
                return Err(StatsError::InvalidArgument(
                    "a trajectory accumulator in a synthetic or network cell".into(),
                ));
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Whether the row is a landscape's headline: splitting at the scenario's own sweeps and the
/// largest n of its landscape and p.
fn headline(exp: &CriticalVolume, rows: &[Row], row: &Row) -> bool {
    let sweeps = if row.network {
        exp.network.sweeps
    } else {
        exp.synthetic.sweeps
    };
    row.method == Method::Splitting
        && row.sweeps == sweeps
        && !rows.iter().any(|other| {
            other.landscape == row.landscape
                && other.p == row.p
                && other.method == Method::Splitting
                && other.sweeps == sweeps
                && other.n > row.n
        })
}

/// The second-order shared-scale prediction for a random-feature landscape: with
/// `s² = ‖c‖² = 1 + ε`, `Var ε = 3.5/K` ([`FeatureGradient::SCALE_VARIANCE_TIMES_K`]) and
/// `q(s) = P(|s z| < τ)`, `ln P ≈ n ln p + n² a² Var(ε)/2` with `a = ∂ln q/∂s² = −τφ(τ)/p`
/// at s = 1 — the cumulant expansion of `ln E[q(s)ⁿ]`, valid while the correction is small.
pub fn feature_prediction(n: usize, k: usize, p: f64) -> f64 {
    let tau = gaussian_box_threshold(p);
    let density = (-0.5 * tau * tau).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let a = -tau * density / p;
    let variance = FeatureGradient::SCALE_VARIANCE_TIMES_K / k as f64;
    n as f64 * p.ln() + (n * n) as f64 * a * a * variance / 2.0
}

/// The verdicts: one on the estimator against the exact laws, one per landscape and p on
/// `pⁿ`, and one per network on the optimizers' points against random points.
pub fn findings(exp: &CriticalVolume, rows: &[Row]) -> Result<Vec<Finding>, StatsError> {
    let z = two_sided_z(exp.confidence)?;
    let mut findings = Vec::new();

    // The estimator against the exact laws, at the scenario's own sweeps.
    let checks: Vec<&Row> = rows
        .iter()
        .filter(|r| {
            r.exact.is_some()
                && r.method == Method::Splitting
                && r.sweeps == exp.synthetic.sweeps
                && r.se > 0.0
        })
        .collect();
    let mut trusted = true;
    if let Some(dof) = checks.iter().map(|r| r.samples).min() {
        let t: Vec<f64> = checks
            .iter()
            .map(|r| (r.ln_p - r.exact.unwrap_or(f64::NAN)) / r.se)
            .collect();
        let test = studentised_error_test(&t, (dof - 1) as f64)?;
        trusted = test.p_value >= exp.significance;
        findings.push(Finding {
            claim: "C3".into(),
            subject: "splitting estimator vs exact laws".into(),
            article: "-".into(),
            theory: "exact one-dimensional integrals (independent, equicorrelated, scale mixture)"
                .into(),
            measured: format!(
                "{} cells: sum of squared normal scores {} (chi2 with {} dof), largest |t| {}",
                t.len(),
                short(test.statistic),
                t.len(),
                short(t.iter().fold(0.0f64, |m, x| m.max(x.abs())))
            ),
            verdict: if trusted {
                Verdict::Supported
            } else {
                Verdict::Refuted
            },
            test: format!(
                "Student-t scores mapped to normal scores, chi-square, two-sided at {}; \
                 'refuted' here means the estimator failed and every other verdict is \
                 inconclusive",
                exp.significance
            ),
        });
    }

    let headlines: Vec<&Row> = rows
        .iter()
        .filter(|r| headline(exp, rows, r) && r.ln_p.is_finite())
        .collect();
    let level = exp.significance / headlines.len().max(1) as f64;
    for row in &headlines {
        let (excess, low, high) = row.excess(z);
        let p_value = row.essay_test();
        let upper_log10 = (row.ln_p + z * row.se) / LN_10;
        let verdict = if !trusted {
            Verdict::Inconclusive
        } else if p_value >= level {
            Verdict::Supported
        } else if upper_log10 < exp.rare_log10 {
            Verdict::SupportedWithCorrection
        } else {
            Verdict::Refuted
        };
        let theory = match (row.exact, exp.cells[row.cell]) {
            (Some(exact), _) => format!("exact log10 P = {}", short(exact / LN_10)),
            (
                None,
                Cell::Synthetic {
                    law: Synthetic::Features { k },
                    ..
                },
            ) => format!(
                "independent as K -> inf; shared scale (2nd order): log10 P = {}",
                short(feature_prediction(row.n, k, row.p) / LN_10)
            ),
            _ => "none known; independent derivatives would give p^n".into(),
        };
        findings.push(Finding {
            claim: "C3".into(),
            subject: format!("{} n={} p={}", row.landscape, row.n, row.p),
            article: format!("log10 P = n log10 p = {}", short(row.essay / LN_10)),
            theory,
            measured: format!(
                "log10 P = {}; excess log10(P/p^n) = {} [{}, {}]",
                plus_minus(row.ln_p / LN_10, row.se / LN_10),
                short(excess),
                short(low),
                short(high)
            ),
            verdict,
            test: format!(
                "z test of ln P against n ln p (estimate and calibration errors), Bonferroni \
                 level {}; if rejected, 'supported-with-correction' while the upper bound of \
                 log10 P is below {} (still rare), else 'refuted'",
                short(level),
                exp.rare_log10
            ),
        });
    }
    Ok(findings)
}
