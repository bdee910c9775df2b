//! The verdicts of `critical-census`, one set per network, from the distinct critical points
//! found by all of its cells (every start and every solver).

use std::f64::consts::LN_2;

use super::census::{DistinctPoint, PowerLawFit, distinct_points, fit_power_law};
use super::records::{CensusRuns, SearchRun};
use super::{CriticalCensus, DataName, Solver};
use crate::report::{Finding, Verdict, plus_minus, power_of_ten, short};
use crate::stats::{Proportion, StatsError, spearman, z_test};

/// The index threshold (times `λ_max`) used for index fractions and the law of index
/// against loss: the middle of [`super::records::INDEX_THRESHOLDS`].
pub const INDEX_COLUMN: usize = 2;

/// Pennington & Bahri's exponent.
pub const PENNINGTON_BAHRI_EXPONENT: f64 = 1.5;

/// One network's searches and what they found.
pub struct NetworkCensus<'a> {
    /// The data set.
    pub data: DataName,
    /// Hidden width.
    pub width: usize,
    /// Label, e.g. `digits 64-8-10`.
    pub label: String,
    /// Parameters P.
    pub parameters: usize,
    /// Every search of every cell of this network.
    pub runs: Vec<&'a SearchRun>,
    /// The distinct critical points, in increasing loss.
    pub points: Vec<DistinctPoint>,
    /// The distinct critical points found by the solvers that do not select by index
    /// (Newton-MR and the exact step, which converge to critical points of any index; not
    /// saddle-free Newton, which descends to minima by construction): the sample behind the
    /// share of minima.
    pub agnostic_points: Vec<DistinctPoint>,
}

impl NetworkCensus<'_> {
    /// `(minima, distinct)` among the index-agnostic solvers' points.
    pub fn minima_share(&self, curvature_tolerance: f64) -> (u64, u64) {
        let minima = self
            .agnostic_points
            .iter()
            .filter(|x| x.is_minimum(curvature_tolerance))
            .count();
        (minima as u64, self.agnostic_points.len() as u64)
    }

    /// Distinct minima found by any solver, saddle-free descent included.
    pub fn all_minima(&self, curvature_tolerance: f64) -> u64 {
        self.points
            .iter()
            .filter(|x| x.is_minimum(curvature_tolerance))
            .count() as u64
    }

    /// `(loss, index fraction)` of every distinct critical point.
    pub fn index_against_loss(&self) -> Vec<(f64, f64)> {
        self.points
            .iter()
            .map(|p| {
                (
                    p.loss,
                    p.index[INDEX_COLUMN] as f64 / self.parameters as f64,
                )
            })
            .collect()
    }

    /// The Pennington–Bahri fit over the saddles.
    pub fn power_law(&self) -> Option<PowerLawFit> {
        fit_power_law(&self.index_against_loss())
    }

    /// Searches ending with `outcome`.
    pub fn ending(&self, outcome: &str) -> u64 {
        self.runs.iter().filter(|r| r.outcome == outcome).count() as u64
    }
}

impl CriticalCensus {
    /// The networks of the grid, each with its searches and distinct critical points.
    pub(super) fn censuses<'a>(&self, cells: &'a [CensusRuns]) -> Vec<NetworkCensus<'a>> {
        let mut censuses: Vec<NetworkCensus<'a>> = Vec::new();
        for (case, runs) in self.cells.iter().zip(cells) {
            let position = censuses
                .iter()
                .position(|c| c.data == case.data && c.width == case.width);
            let census = match position {
                Some(i) => &mut censuses[i],
                None => {
                    let data = self.data_of(case.data);
                    censuses.push(NetworkCensus {
                        data: case.data,
                        width: case.width,
                        label: case.network_label(data.features, data.classes),
                        parameters: self.network(case).parameters(),
                        runs: Vec::new(),
                        points: Vec::new(),
                        agnostic_points: Vec::new(),
                    });
                    censuses.last_mut().expect("just pushed")
                }
            };
            census.runs.extend(runs.runs.iter());
        }
        for census in &mut censuses {
            census.points = distinct_points(census.runs.iter().copied());
            let agnostic = self
                .cells
                .iter()
                .zip(cells)
                .filter(|(case, _)| {
                    case.data == census.data
                        && case.width == census.width
                        && case.solver != Solver::SaddleFree
                })
                .flat_map(|(_, runs)| runs.runs.iter());
            census.agnostic_points = distinct_points(agnostic);
        }
        censuses
    }

    /// The four findings of one network.
    pub(super) fn network_findings(
        &self,
        census: &NetworkCensus,
    ) -> Result<Vec<Finding>, StatsError> {
        let confidence = 1.0 - self.significance;
        let label = &census.label;
        let p = census.parameters;
        let mut findings = Vec::new();

        // 1. The share of minima among the distinct critical points of the index-agnostic
        // solvers; saddle-free descent's minima are reported beside it, not counted.
        let (minima, distinct) = census.minima_share(self.curvature_tolerance);
        let descent = census.all_minima(self.curvature_tolerance);
        let ln_article = -(p as f64) * LN_2;
        let (verdict, measured) = if distinct == 0 {
            (Verdict::Inconclusive, "no critical point found".to_string())
        } else {
            let (lo, hi) = Proportion::new(minima, distinct).clopper_pearson(confidence)?;
            let verdict = if lo.ln() > ln_article {
                Verdict::Refuted
            } else if hi < 0.5 {
                Verdict::Supported
            } else {
                Verdict::Inconclusive
            };
            (
                verdict,
                format!(
                    "{minima} minima among {distinct} distinct critical points of the index-agnostic searches: {} [{}, {}]; with saddle-free descent {descent} distinct minima in all",
                    short(minima as f64 / distinct as f64),
                    short(lo),
                    short(hi)
                ),
            )
        };
        findings.push(Finding {
            claim: "C1".into(),
            subject: format!("{label}: minima among critical points"),
            article: format!("P(minimum) = 0.5^n = {} at n = {p}", power_of_ten(ln_article)),
            theory: "Dauphin et al. 2014; Pennington & Bahri 2017: below a critical loss every critical point is a minimum, above it the index grows with the loss; the share found depends on where searches start".into(),
            measured,
            verdict,
            test: format!(
                "Clopper-Pearson {}% interval of the minima's share among the distinct critical points found by Newton-MR and the exact step (saddle-free Newton finds minima by construction and is left out): refuted if its lower end exceeds 0.5^n, supported if not and its upper end is below 1/2 (minima a minority), else inconclusive (a search samples what it converges to: compare the starts and solvers in -cells.csv)",
                100.0 * confidence
            ),
        });

        // 2. Index against loss: rank correlation.
        let pairs = census.index_against_loss();
        let (x, y): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
        let (verdict, measured) = match spearman(&x, &y) {
            Ok(t) => (
                match (t.p_value < self.significance, t.statistic > 0.0) {
                    (true, true) => Verdict::Supported,
                    (true, false) => Verdict::Refuted,
                    _ => Verdict::Inconclusive,
                },
                format!(
                    "Spearman rho = {} (p = {}) over {} distinct critical points",
                    short(t.statistic),
                    short(t.p_value),
                    pairs.len()
                ),
            ),
            Err(_) => (
                Verdict::Inconclusive,
                format!(
                    "{} distinct critical points, too few or all of one index",
                    pairs.len()
                ),
            ),
        };
        findings.push(Finding {
            claim: "C1".into(),
            subject: format!("{label}: index rises with the loss"),
            article: "critical points at high loss are saddles; minima are rare".into(),
            theory: "Dauphin et al. 2014 (fig. 1): the index fraction grows with the training error".into(),
            measured,
            verdict,
            test: format!(
                "two-sided Spearman test at level {}: significantly positive supports, negative refutes",
                self.significance
            ),
        });

        // 3. The Pennington–Bahri exponent.
        let (verdict, measured) = match census.power_law() {
            Some(fit) => {
                let t = z_test(fit.exponent.0, PENNINGTON_BAHRI_EXPONENT, fit.exponent.1);
                (
                    if t.p_value >= self.significance {
                        Verdict::Supported
                    } else {
                        Verdict::Refuted
                    },
                    format!(
                        "exponent {} (eps_c = {}, alpha0 = {}, {} saddles; z = {})",
                        plus_minus(fit.exponent.0, fit.exponent.1),
                        short(fit.critical_loss),
                        short(fit.amplitude),
                        fit.points,
                        short(t.statistic)
                    ),
                )
            }
            None => (
                Verdict::Inconclusive,
                "fewer than 5 saddles with a loss: no fit".to_string(),
            ),
        };
        findings.push(Finding {
            claim: "C1".into(),
            subject: format!("{label}: index-loss law"),
            article: "no law stated".into(),
            theory: "Pennington & Bahri 2017: alpha = alpha0 ((eps - eps_c)/eps_c)^(3/2) above eps_c, minima below".into(),
            measured,
            verdict,
            test: format!(
                "z test of the fitted exponent against 3/2 at level {} (standard error conditional on eps_c)",
                self.significance
            ),
        });

        // 4. Gradient-flat ends.
        let searches = census.runs.len() as u64;
        let flat = census.ending("gradient-flat");
        let (verdict, measured) = if searches == 0 {
            (Verdict::Inconclusive, "no search".to_string())
        } else {
            let (lo, hi) = Proportion::new(flat, searches).clopper_pearson(confidence)?;
            (
                if lo > self.often_threshold {
                    Verdict::Supported
                } else if hi < self.often_threshold {
                    Verdict::Refuted
                } else {
                    Verdict::Inconclusive
                },
                format!(
                    "{flat} of {searches} searches end gradient-flat: {} [{}, {}] ({} critical, {} stalled)",
                    short(flat as f64 / searches as f64),
                    short(lo),
                    short(hi),
                    census.ending("critical"),
                    census.ending("stalled")
                ),
            )
        };
        findings.push(Finding {
            claim: "C1".into(),
            subject: format!("{label}: searches end at gradient-flat points"),
            article: "not addressed".into(),
            theory: "Frye et al. 2021: gradient-norm minimisation often stops where the gradient lies in the Hessian's kernel, not at critical points".into(),
            measured,
            verdict,
            test: format!(
                "Clopper-Pearson {}% interval of the gradient-flat share against {}: above supports, below refutes",
                100.0 * confidence,
                self.often_threshold
            ),
        });
        Ok(findings)
    }
}
