//! From searches to a census: distinct critical points (copies under the network's
//! symmetries merged), and the Pennington–Bahri fit of index against loss.

use super::records::SearchRun;
use crate::stats::{LinearFit, weighted_least_squares};

/// Two critical points are the same when their losses agree to `1e-7·(1 + |L|)` and either
/// their canonical forms agree to `1e-3` of the norm (the search stops at
/// `‖g‖ ≤ 10⁻⁷‖g_start‖`, so a point is known to about that over the smallest non-zero
/// curvature; single precision is far below it) or their indices agree at every positive
/// threshold: critical points are not always isolated — where a hidden unit's outgoing
/// weights vanish, its bias is free (no weight decay acts on it) and a whole manifold of
/// critical points shares one loss and one index — and such a family is counted once. The
/// index at τ = 0 is left out of the comparison: along such a manifold the Hessian has
/// eigenvalues that are zero up to rounding, and how many fall below 0 changes from one copy
/// to the next (the quick profile's "dead network" family showed 37 to 40 at τ = 0 and 36 at
/// every τ > 0).
const SAME_LOSS: f64 = 1e-7;
/// See [`SAME_LOSS`].
const SAME_POINT: f64 = 1e-3;

/// One distinct critical point and how many searches found it.
#[derive(Debug, Clone, PartialEq)]
pub struct DistinctPoint {
    /// Its loss.
    pub loss: f64,
    /// Its index at each threshold.
    pub index: Vec<u64>,
    /// Smallest and largest Hessian eigenvalue.
    pub lambda: (f64, f64),
    /// Searches that ended there.
    pub found: u64,
    canonical: Vec<f32>,
}

impl DistinctPoint {
    /// Whether it is a minimum: `λ_min ≥ −τ λ_max`.
    pub fn is_minimum(&self, tau: f64) -> bool {
        self.lambda.0 >= -tau * self.lambda.1
    }
}

/// The distinct critical points among the critical ends of `runs`, in increasing loss.
pub fn distinct_points<'a>(runs: impl Iterator<Item = &'a SearchRun>) -> Vec<DistinctPoint> {
    let mut critical: Vec<&SearchRun> = runs
        .filter(|r| r.is_critical() && r.canonical.is_some() && r.losses.1.is_finite())
        .collect();
    critical.sort_by(|a, b| a.losses.1.total_cmp(&b.losses.1));
    let mut points: Vec<DistinctPoint> = Vec::new();
    for run in critical {
        let loss = run.losses.1;
        let canonical = run.canonical.as_ref().expect("filtered above");
        let same = points
            .iter_mut()
            .rev()
            .take_while(|p| loss - p.loss <= SAME_LOSS * (1.0 + loss.abs()))
            .find(|p| {
                if p.index.get(1..) == run.index.get(1..) {
                    return true;
                }
                let (mut diff, mut size) = (0.0f64, 0.0f64);
                for (a, b) in canonical.iter().zip(&p.canonical) {
                    diff += f64::from(a - b).powi(2);
                    size += f64::from(*b).powi(2);
                }
                diff.sqrt() <= SAME_POINT * size.sqrt().max(1.0)
            });
        match same {
            Some(point) => point.found += 1,
            None => points.push(DistinctPoint {
                loss,
                index: run.index.clone(),
                lambda: run.lambda,
                found: 1,
                canonical: canonical.clone(),
            }),
        }
    }
    points
}

/// The Pennington–Bahri law `α = α₀ ((ε − ε_c)/ε_c)^p` for the index fraction α of critical
/// points above a critical loss ε_c (J. Pennington & Y. Bahri, "Geometry of neural network
/// loss surfaces via random matrix theory", ICML 2017: p = 3/2, every critical point below
/// ε_c a minimum), fitted to points `(ε, α)` with α > 0.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerLawFit {
    /// The critical loss ε_c.
    pub critical_loss: f64,
    /// α₀.
    pub amplitude: f64,
    /// The exponent p and its standard error.
    pub exponent: (f64, f64),
    /// Points used.
    pub points: usize,
}

/// Fits [`PowerLawFit`] by profiling ε_c: for 400 values of ε_c evenly spaced in
/// `(0, min ε)` a least-squares line of `ln α` on `ln((ε − ε_c)/ε_c)`, keeping the ε_c with
/// the smallest residual sum. The exponent's standard error is the line's at that ε_c (the
/// residual variance estimated from the points), conditional on ε_c: it understates the
/// uncertainty, which the stated test accepts. `None` with fewer than 5 points, fewer than 3
/// distinct index fractions, or a degenerate fit.
pub fn fit_power_law(points: &[(f64, f64)]) -> Option<PowerLawFit> {
    let usable: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(e, a)| e.is_finite() && *a > 0.0 && *e > 0.0)
        .collect();
    let mut levels: Vec<f64> = usable.iter().map(|p| p.1).collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    if usable.len() < 5 || levels.len() < 3 {
        return None;
    }
    let lowest = usable.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let line = |critical: f64| -> Option<(LinearFit, f64)> {
        let rows: Vec<Vec<f64>> = usable
            .iter()
            .map(|(e, _)| vec![1.0, ((e - critical) / critical).ln()])
            .collect();
        let y: Vec<f64> = usable.iter().map(|(_, a)| a.ln()).collect();
        let unit = vec![1.0; y.len()];
        let first = weighted_least_squares(&rows, &y, &unit).ok()?;
        let residual = first.chi_square;
        // Refit with weights 1/σ̂², σ̂² = RSS/dof, so the errors are ordinary least squares'.
        let variance = (residual / first.dof.max(1) as f64).max(f64::MIN_POSITIVE);
        let fit = weighted_least_squares(&rows, &y, &vec![1.0 / variance; y.len()]).ok()?;
        Some((fit, residual))
    };
    let best = (1..400)
        .map(|k| lowest * k as f64 / 400.0)
        .filter_map(|c| line(c).map(|(fit, rss)| (c, fit, rss)))
        .min_by(|a, b| a.2.total_cmp(&b.2))?;
    let (critical_loss, fit, _) = best;
    Some(PowerLawFit {
        critical_loss,
        amplitude: fit.coefficients[0].exp(),
        exponent: (fit.coefficients[1], fit.standard_errors[1]),
        points: usable.len(),
    })
}
