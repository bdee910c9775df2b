//! The verdicts of `convergence-audit` on C6, one set per cell, from the end points of its
//! runs (the last plateau of each run that neither diverged nor ran out of epochs before
//! its first plateau).

use super::records::{CellRuns, PlateauAudit, RunAudit};
use super::{Case, ConvergenceAudit};
use crate::report::{Finding, Verdict, short};
use crate::stats::{MeanVar, Proportion, StatsError, binomial_test, two_sided_z};

/// What an end point is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointClass {
    /// `‖g‖/‖g₀‖` at most the critical tolerance and `λ_min ≥ −τ λ_max`.
    Minimum,
    /// Critical, with `λ_min < −τ λ_max`.
    Saddle,
    /// `‖g‖/‖g₀‖` above the critical tolerance.
    NotCritical,
}

impl PointClass {
    /// Kebab-case name for tables.
    pub fn name(self) -> &'static str {
        match self {
            PointClass::Minimum => "minimum",
            PointClass::Saddle => "saddle",
            PointClass::NotCritical => "not-critical",
        }
    }
}

/// A geometric-mean ratio: the mean of `ln r` over runs with its standard error, reported as
/// `exp(mean)` and `exp(mean ± z·se)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogRatio {
    /// Runs contributing.
    pub runs: u64,
    /// Mean of `ln r`.
    pub mean: f64,
    /// Its standard error (sample sd / √runs).
    pub se: f64,
}

impl LogRatio {
    /// From per-run values of `ln r` (non-finite ones are left out).
    pub fn of(values: impl Iterator<Item = f64>) -> Self {
        let mut m = MeanVar::default();
        values.filter(|v| v.is_finite()).for_each(|v| m.push(v));
        LogRatio {
            runs: m.count(),
            mean: m.mean(),
            se: m.standard_error(),
        }
    }

    /// `exp(mean ± z·se)`; `None` with fewer than two runs.
    pub fn interval(&self, z: f64) -> Option<(f64, f64)> {
        (self.runs >= 2 && self.se.is_finite()).then(|| {
            (
                (self.mean - z * self.se).exp(),
                (self.mean + z * self.se).exp(),
            )
        })
    }

    /// "0.42 [0.31, 0.57] (n = 32)".
    pub fn describe(&self, z: f64) -> String {
        match self.interval(z) {
            Some((lo, hi)) => format!(
                "{} [{}, {}] (n = {})",
                short(self.mean.exp()),
                short(lo),
                short(hi),
                self.runs
            ),
            None => format!("n = {} (too few runs)", self.runs),
        }
    }

    /// Supported if the whole interval lies above `threshold`, refuted if below it,
    /// inconclusive otherwise (or with fewer than two runs).
    pub fn above(&self, z: f64, threshold: f64) -> Verdict {
        match self.interval(z) {
            Some((lo, _)) if lo > threshold => Verdict::Supported,
            Some((_, hi)) if hi < threshold => Verdict::Refuted,
            _ => Verdict::Inconclusive,
        }
    }
}

impl ConvergenceAudit {
    /// The class of a plateau of a run whose initial gradient norm is `initial`.
    pub(super) fn classify(&self, point: &PlateauAudit, initial: f64) -> PointClass {
        if point.gradient_norm > self.critical_tolerance * initial {
            PointClass::NotCritical
        } else if point.lambda.0 >= -self.curvature_tolerance * point.lambda.1 {
            PointClass::Minimum
        } else {
            PointClass::Saddle
        }
    }

    /// The four findings of one cell.
    pub(super) fn cell_findings(
        &self,
        case: &Case,
        runs: &CellRuns,
    ) -> Result<Vec<Finding>, StatsError> {
        let confidence = 1.0 - self.significance;
        let z = two_sided_z(confidence)?;
        let label = case.label();
        let ends: Vec<(&RunAudit, &PlateauAudit)> = runs
            .runs
            .iter()
            .filter_map(|r| r.end().map(|e| (r, e)))
            .collect();
        let left_out = runs.runs.len() - ends.len();
        let excluded = if left_out > 0 {
            format!("; {left_out} runs left out (diverged or no plateau)")
        } else {
            String::new()
        };
        let mut findings = Vec::new();

        // 1. Is the end point a critical point?
        let not_critical = ends
            .iter()
            .filter(|(r, e)| self.classify(e, r.initial_gradient.0) == PointClass::NotCritical)
            .count() as u64;
        let proportion = Proportion::new(not_critical, ends.len() as u64);
        let (verdict, measured) = if ends.is_empty() {
            (Verdict::Inconclusive, "no end point".to_string())
        } else {
            let (lo, hi) = proportion.clopper_pearson(confidence)?;
            let verdict = if lo > 0.5 {
                Verdict::Supported
            } else if hi < 0.5 {
                Verdict::Refuted
            } else {
                Verdict::Inconclusive
            };
            (
                verdict,
                format!(
                    "{not_critical}/{} end points not critical (‖g‖/‖g0‖ > {}): {} [{}, {}]{excluded}",
                    ends.len(),
                    self.critical_tolerance,
                    short(proportion.estimate()),
                    short(lo),
                    short(hi)
                ),
            )
        };
        findings.push(Finding {
            claim: "C6".into(),
            subject: format!("{label}: end point is not critical"),
            article: "when training looks converged the gradient is still far from zero".into(),
            theory: "GD with a fixed step below 2/L converges to a critical point, but arbitrarily slowly on flat terrain; Goodfellow, Bengio & Courville 2016 (Deep Learning, sec. 8.2.3): the gradient norm does not shrink while the loss levels off".into(),
            measured,
            verdict,
            test: format!(
                "Clopper-Pearson {}% interval of the not-critical fraction above 1/2: supported; below: refuted",
                100.0 * confidence
            ),
        });

        // 2. Output layer against the hidden layers, per parameter, paired by run.
        let log_ratios: Vec<f64> = ends
            .iter()
            .map(|(r, e)| output_over_hidden(e, &r.layer_sizes).ln())
            .filter(|v| v.is_finite())
            .collect();
        let larger = log_ratios.iter().filter(|&&v| v > 0.0).count() as u64;
        let pairs = log_ratios.len() as u64;
        let ratio = LogRatio::of(log_ratios.iter().copied());
        let verdict = if pairs == 0 {
            Verdict::Inconclusive
        } else {
            let test = binomial_test(larger, pairs, 0.5)?;
            match (test.p_value < self.significance, 2 * larger > pairs) {
                (true, true) => Verdict::Supported,
                (true, false) => Verdict::Refuted,
                _ => Verdict::Inconclusive,
            }
        };
        findings.push(Finding {
            claim: "C6".into(),
            subject: format!("{label}: output layer's gradient exceeds the hidden layers'"),
            article: "the gradient of the output layer especially is far from zero".into(),
            theory: "no closed form; Gur-Ari, Roberts & Dyer 2018: the gradient lies mostly in the top-k Hessian eigenspace (k = classes)".into(),
            measured: format!(
                "RMS per parameter, output / hidden: {}; larger in {larger} of {pairs} runs",
                ratio.describe(z)
            ),
            verdict,
            test: format!(
                "two-sided sign test across runs at level {}: larger in significantly more runs supports, fewer refutes",
                self.significance
            ),
        });

        // 3. The output layer's gradient after each learning-rate drop over before it.
        let drop = LogRatio::of(ends.iter().filter_map(|(r, _)| mean_drop_log_ratio(r)));
        findings.push(Finding {
            claim: "C6".into(),
            subject: format!("{label}: output gradient survives a learning-rate drop"),
            article: "even after the learning rate is lowered the gradient is still far from zero".into(),
            theory: format!(
                "a noise floor set by the step (SGD) would shrink with the rate, by the drop factor {}",
                self.schedule.drop_factor
            ),
            measured: format!(
                "‖g_out‖ at the next plateau / at the drop (geometric mean per run): {}",
                drop.describe(z)
            ),
            verdict: drop.above(z, self.shrink_threshold),
            test: format!(
                "{}% interval of the geometric-mean ratio above {}: supported; below: refuted",
                100.0 * confidence,
                self.shrink_threshold
            ),
        });

        // 4. The gradient norm through training (the Deep Learning book's figure 8.1).
        let through = LogRatio::of(
            ends.iter()
                .map(|(r, e)| (e.gradient_norm / r.initial_gradient.0).ln()),
        );
        findings.push(Finding {
            claim: "C6".into(),
            subject: format!("{label}: gradient norm does not shrink through training"),
            article: "the gradient norm stays large while training levels off".into(),
            theory: "Goodfellow, Bengio & Courville 2016, fig. 8.1: the gradient norm grows over training while the loss falls".into(),
            measured: format!("‖g_end‖ / ‖g_0‖: {}", through.describe(z)),
            verdict: through.above(z, self.shrink_threshold),
            test: format!(
                "{}% interval of the geometric-mean ratio above {}: supported; below: refuted",
                100.0 * confidence,
                self.shrink_threshold
            ),
        });
        Ok(findings)
    }
}

/// The output layer's per-parameter gradient RMS over the hidden layers' (pooled: the RMS over
/// all hidden parameters, `√(Σ‖g_l‖² / Σ P_l)`); `sizes` are the layers' parameter counts.
pub fn output_over_hidden(point: &PlateauAudit, sizes: &[u64]) -> f64 {
    let (output, hidden) = point.layers.split_last().expect("at least one layer");
    let squares: f64 = hidden.iter().map(|(norm, _)| norm * norm).sum();
    let count: u64 = sizes[..hidden.len()].iter().sum();
    output.1 / (squares / count as f64).sqrt()
}

/// The mean over a run's learning-rate drops of `ln(‖g_out‖ after / ‖g_out‖ before)`, where
/// "before" is the plateau at which the rate was dropped and "after" the next plateau; `None`
/// for a run with fewer than two plateaus.
pub fn mean_drop_log_ratio(run: &RunAudit) -> Option<f64> {
    let output = |p: &PlateauAudit| p.layers.last().map_or(f64::NAN, |l| l.0);
    let logs: Vec<f64> = run
        .plateaus
        .windows(2)
        .map(|w| (output(&w[1]) / output(&w[0])).ln())
        .collect();
    (!logs.is_empty()).then(|| logs.iter().sum::<f64>() / logs.len() as f64)
}
