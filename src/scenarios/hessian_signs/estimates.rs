//! From a cell's merged accumulator to its estimates, with standard errors and intervals.

use super::model::{Cell, CellAccumulator, FieldWeights, IndexHistogram, Model, SplittingRuns};
use crate::report::Verdict;
use crate::stats::{Proportion, StatsError, binomial_test, two_sided_z, z_test};

/// Everything measured in one cell, on a common footing for all estimators.
#[derive(Debug, Clone)]
pub struct CellEstimate {
    /// The cell.
    pub cell: Cell,
    /// Samples (direct, goe-reduction) or runs (splitting) that entered the estimate.
    pub samples: u64,
    /// Minima counted (direct, unweighted models only).
    pub minima: Option<u64>,
    /// Non-finite samples or stuck runs, excluded from the estimate.
    pub diverged: u64,
    /// `ln P(min)` and its standard error.
    pub ln_p: f64,
    /// Standard error of `ln_p` (delta method for counts and ratios; run spread for splitting).
    pub ln_se: f64,
    /// Confidence bounds on P (Clopper–Pearson for counts, else `exp(ln_p ± z·ln_se)`).
    pub bounds: (f64, f64),
    /// Wilson bounds (counts only).
    pub wilson: Option<(f64, f64)>,
    /// Mean, variance and the variance's standard error of the index (full histograms only).
    pub index: Option<IndexMoments>,
    /// Fraction per index (for the histogram table): unweighted or |det|-weighted.
    pub index_law: Vec<f64>,
    /// Per-run spread of `ln Ẑ` and mean stages (splitting only).
    pub runs: Option<(f64, f64)>,
    /// p-value of the test `P = 2⁻ⁿ`.
    pub p_value: f64,
    /// The cell's verdict at the per-cell level.
    pub verdict: Verdict,
}

/// Moments of the index law.
#[derive(Debug, Clone, Copy)]
pub struct IndexMoments {
    /// Mean index.
    pub mean: f64,
    /// Standard error of the mean.
    pub mean_se: f64,
    /// Variance.
    pub variance: f64,
    /// Standard error of the variance, `√((μ₄ − σ⁴)/N)`.
    pub variance_se: f64,
}

impl CellEstimate {
    /// The article's `ln P = n ln ½`.
    pub fn article_ln_p(&self) -> f64 {
        -(self.cell.n as f64) * std::f64::consts::LN_2
    }
}

/// Builds the estimate of one cell and tests it against the article at level `level`.
///
/// `full_index` says whether the GOE's direct cells counted every negative eigenvalue or
/// stopped at the first (then there is no index law).
pub fn estimate(
    cell: &Cell,
    acc: &CellAccumulator,
    full_index: bool,
    confidence: f64,
    level: f64,
) -> Result<CellEstimate, StatsError> {
    let z = two_sided_z(confidence)?;
    let mut estimate = match acc {
        CellAccumulator::Index(h) => {
            from_histogram(cell, h, confidence, full_index || cell.model != Model::Goe)?
        }
        CellAccumulator::Field(f) => from_weights(cell, f, z),
        CellAccumulator::Splitting(s) => from_runs(cell, s, z),
    };
    let article = estimate.article_ln_p();
    estimate.p_value = match estimate.minima {
        Some(k) => binomial_test(k, estimate.samples, article.exp())?.p_value,
        None => z_test(estimate.ln_p, article, estimate.ln_se).p_value,
    };
    if !estimate.p_value.is_finite() {
        estimate.p_value = 1.0;
    }
    estimate.verdict = cell_verdict(estimate.p_value, estimate.ln_p, article, level);
    Ok(estimate)
}

/// The verdict of one cell's test of `P(min) = 2⁻ⁿ` at level `level`: not rejected →
/// supported; rejected with minima rarer than the article says → supported with correction
/// (saddles dominate even more); rejected with minima more common → refuted.
pub fn cell_verdict(p_value: f64, ln_p: f64, article_ln_p: f64, level: f64) -> Verdict {
    if p_value >= level {
        Verdict::Supported
    } else if ln_p < article_ln_p {
        Verdict::SupportedWithCorrection
    } else {
        Verdict::Refuted
    }
}

pub(super) fn blank(cell: &Cell) -> CellEstimate {
    CellEstimate {
        cell: *cell,
        samples: 0,
        minima: None,
        diverged: 0,
        ln_p: f64::NAN,
        ln_se: f64::NAN,
        bounds: (f64::NAN, f64::NAN),
        wilson: None,
        index: None,
        index_law: Vec::new(),
        runs: None,
        p_value: 1.0,
        verdict: Verdict::Inconclusive,
    }
}

fn from_histogram(
    cell: &Cell,
    h: &IndexHistogram,
    confidence: f64,
    full: bool,
) -> Result<CellEstimate, StatsError> {
    let samples: u64 = h.histogram.iter().sum();
    let minima = Proportion::new(h.histogram[0], samples);
    Ok(CellEstimate {
        samples,
        minima: Some(minima.successes),
        diverged: h.diverged,
        ln_p: minima.ln_estimate(),
        ln_se: minima.ln_standard_error(),
        bounds: minima.clopper_pearson(confidence)?,
        wilson: Some(minima.wilson(confidence)?),
        index: full.then(|| index_moments(&h.histogram)),
        index_law: if full {
            h.histogram
                .iter()
                .map(|&c| c as f64 / samples as f64)
                .collect()
        } else {
            Vec::new()
        },
        ..blank(cell)
    })
}

/// Mean, variance and their standard errors, exactly from a histogram.
fn index_moments(histogram: &[u64]) -> IndexMoments {
    let n = histogram.iter().sum::<u64>() as f64;
    let moment = |f: &dyn Fn(f64) -> f64| {
        histogram
            .iter()
            .enumerate()
            .map(|(k, &c)| f(k as f64) * c as f64)
            .sum::<f64>()
            / n
    };
    let mean = moment(&|k| k);
    let m2 = moment(&|k| (k - mean).powi(2));
    let m4 = moment(&|k| (k - mean).powi(4));
    let variance = m2 * n / (n - 1.0);
    IndexMoments {
        mean,
        mean_se: (variance / n).sqrt(),
        variance,
        variance_se: ((m4 - m2 * m2) / n).max(0.0).sqrt(),
    }
}

/// The ratio `Σ w_num / Σ w_den` and its delta-method standard error on the log scale:
/// `Var(ln N̄ − ln D̄) ≈ [relvar(N) + relvar(D) − 2 relcov(N, D)]/R` with
/// `relvar(X) = E[X²]/E[X]² − 1` (relcov vanishes for independent draws).
fn from_weights(cell: &Cell, f: &FieldWeights, z: f64) -> CellEstimate {
    let used = f.samples - f.diverged;
    let r = used as f64;
    let ln_mean = |sum: f64| sum - r.ln();
    let (ln_num, ln_den) = (
        ln_mean(f.numerator.sum.ln_sum()),
        ln_mean(f.denominator.sum.ln_sum()),
    );
    let relvar = |squares: f64, ln_m: f64| (ln_mean(squares) - 2.0 * ln_m).exp() - 1.0;
    let mut variance = relvar(f.numerator.squares.ln_sum(), ln_num)
        + relvar(f.denominator.squares.ln_sum(), ln_den);
    if f.cross.ln_sum().is_finite() {
        variance -= 2.0 * ((ln_mean(f.cross.ln_sum()) - ln_num - ln_den).exp() - 1.0);
    }
    let ln_p = ln_num - ln_den;
    let ln_se = (variance.max(0.0) / r).sqrt();
    let total = f.denominator.sum.ln_sum();
    CellEstimate {
        samples: used,
        diverged: f.diverged,
        ln_p,
        ln_se,
        bounds: ((ln_p - z * ln_se).exp(), (ln_p + z * ln_se).exp()),
        index_law: f.index.iter().map(|w| (w.ln_sum() - total).exp()).collect(),
        ..blank(cell)
    }
}

/// Combines independent splitting runs. `ln Ẑ` is asymptotically normal (Cérou & Guyader
/// 2007) with `E[Ẑ] = P`, so `ln P = E[ln Ẑ] + σ²/2`; the estimate is
/// `mean(ln Ẑ) + s²/2` with standard error `√(s²/R + s⁴/(2(R − 1)))`.
fn from_runs(cell: &Cell, s: &SplittingRuns, z: f64) -> CellEstimate {
    let runs = s.ln_estimates.count();
    let r = runs as f64;
    let var = if runs >= 2 {
        s.ln_estimates.sample_variance()
    } else {
        f64::NAN
    };
    let ln_p = s.ln_estimates.mean() + var / 2.0;
    let ln_se = (var / r + var * var / (2.0 * (r - 1.0))).sqrt();
    CellEstimate {
        samples: runs,
        diverged: s.diverged,
        ln_p,
        ln_se,
        bounds: ((ln_p - z * ln_se).exp(), (ln_p + z * ln_se).exp()),
        runs: Some((var.sqrt(), s.stages.mean())),
        ..blank(cell)
    }
}
