//! Comparing two arms run on the same seeds: Fisher's exact test on their failure counts and
//! the Hodges–Lehmann estimate, with its Wilcoxon signed-rank interval, of the typical paired
//! log-ratio of their costs.

use statrs::distribution::{Discrete, Hypergeometric};

use super::StatsError;
use super::hypothesis::TestOutcome;
use super::proportion::two_sided_z;

/// Fisher's exact two-sided test of equal failure rates in two groups, as R's `fisher.test`:
/// conditional on the margins, the failures of the first group follow the hypergeometric law,
/// and the p-value sums the probabilities of all tables no more likely than the observed one
/// (relative tolerance 1 + 10⁻⁷). The statistic is the first group's failure count.
///
/// ```
/// use stuck::stats::fisher_exact;
/// // R: fisher.test(matrix(c(3, 1, 1, 3), 2))$p.value = 0.4857
/// let t = fisher_exact((3, 4), (1, 4)).unwrap();
/// assert!((t.p_value - 0.4857143).abs() < 1e-6);
/// ```
///
/// # Errors
/// A group with more failures than runs, or no runs at all.
pub fn fisher_exact(first: (u64, u64), second: (u64, u64)) -> Result<TestOutcome, StatsError> {
    let ((a, n1), (c, n2)) = (first, second);
    if a > n1 || c > n2 || n1 + n2 == 0 {
        return Err(StatsError::InvalidArgument(format!(
            "Fisher's test needs failures ≤ runs in both groups, got {a}/{n1} and {c}/{n2}"
        )));
    }
    let (total, failures) = (n1 + n2, a + c);
    if failures == 0 || failures == total {
        return Ok(TestOutcome {
            statistic: a as f64,
            p_value: 1.0,
        });
    }
    let law = Hypergeometric::new(total, failures, n1)
        .map_err(|e| StatsError::Distribution(e.to_string()))?;
    let observed = law.ln_pmf(a) + 1e-7f64.ln_1p();
    let (low, high) = (failures.saturating_sub(n2), failures.min(n1));
    let p_value: f64 = (low..=high)
        .map(|k| law.ln_pmf(k))
        .filter(|&l| l <= observed)
        .map(f64::exp)
        .sum();
    Ok(TestOutcome {
        statistic: a as f64,
        p_value: p_value.min(1.0),
    })
}

/// The Hodges–Lehmann estimate of the centre of paired differences and its confidence
/// interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShiftEstimate {
    /// The median of the Walsh averages `(dᵢ + dⱼ)/2`, i ≤ j.
    pub estimate: f64,
    /// Lower end of the interval.
    pub low: f64,
    /// Upper end.
    pub high: f64,
    /// Number of pairs.
    pub pairs: usize,
}

/// Hodges–Lehmann estimate (J. L. Hodges & E. L. Lehmann, *Ann. Math. Statist.* 34, 598,
/// 1963) of the centre of symmetry of `differences`, and the distribution-free interval that
/// inverts Wilcoxon's signed-rank test: with the M = n(n+1)/2 Walsh averages sorted,
/// `[W_(C), W_(M+1−C)]` with `C = ⌊M/2 − z_{1−α/2} √(n(n+1)(2n+1)/24)⌋` (the normal
/// approximation to the signed-rank law, good from n ≈ 10; M. Hollander & D. A. Wolfe,
/// *Nonparametric Statistical Methods*, 1999, §3.3), clamped to at least 1. Applied to
/// `ln(cost with remedy / cost without)` on the same seeds, `exp` of it is the typical ratio.
///
/// ```
/// use stuck::stats::hodges_lehmann;
/// let d: Vec<f64> = (1..=20).map(|i| i as f64).collect();
/// let s = hodges_lehmann(&d, 0.95).unwrap();
/// assert_eq!(s.estimate, 10.5);
/// assert!(s.low < 10.5 && s.high > 10.5);
/// ```
///
/// # Errors
/// Fewer than two differences, a non-finite one, or a confidence outside (0, 1).
pub fn hodges_lehmann(differences: &[f64], confidence: f64) -> Result<ShiftEstimate, StatsError> {
    let n = differences.len();
    if n < 2 || differences.iter().any(|d| !d.is_finite()) {
        return Err(StatsError::InvalidArgument(format!(
            "Hodges–Lehmann needs at least two finite differences, got {n}"
        )));
    }
    let z = two_sided_z(confidence)?;
    let mut walsh = Vec::with_capacity(n * (n + 1) / 2);
    for i in 0..n {
        for j in i..n {
            walsh.push(0.5 * (differences[i] + differences[j]));
        }
    }
    walsh.sort_by(f64::total_cmp);
    let m = walsh.len();
    let estimate = if m % 2 == 1 {
        walsh[m / 2]
    } else {
        0.5 * (walsh[m / 2 - 1] + walsh[m / 2])
    };
    let nf = n as f64;
    let spread = (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0).sqrt();
    let c = ((m as f64 / 2.0 - z * spread).floor().max(1.0) as usize).min(m.div_ceil(2));
    Ok(ShiftEstimate {
        estimate,
        low: walsh[c - 1],
        high: walsh[m - c],
        pairs: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::chunk_stream;
    use crate::stats::binomial_test;
    use rand::RngExt;
    use rand_distr::StandardNormal;

    /// Values from SciPy 1.17, `scipy.stats.fisher_exact([[a, n1 - a], [c, n2 - c]])`, which
    /// sums the same tables as R's `fisher.test`.
    #[test]
    fn fisher_matches_scipy() {
        for ((a, n1), (c, n2), expected) in [
            ((10, 20), (2, 20), 0.01381414785),
            ((0, 30), (5, 30), 0.05218554862),
            ((7, 12), (7, 12), 1.0),
            ((1, 9), (11, 14), 0.002759456185),
        ] {
            let t = fisher_exact((a, n1), (c, n2)).unwrap();
            assert!(
                (t.p_value - expected).abs() < 1e-6,
                "{a}/{n1} vs {c}/{n2}: {} vs {expected}",
                t.p_value
            );
        }
        assert!(fisher_exact((3, 2), (0, 1)).is_err());
    }

    /// Coverage: for 400 samples of 30 normal differences with centre 0.3, the 95 % interval
    /// holds 0.3 in a share of them that a binomial test at 1 % does not reject against 0.95
    /// (the signed-rank interval is exact up to its normal approximation and the discreteness
    /// of C, so its coverage is 0.95 ± 0.01 at n = 30).
    #[test]
    fn the_interval_covers_at_its_level() {
        let mut rng = chunk_stream(7, "hodges-lehmann", 0, 0);
        let trials = 400;
        let covered = (0..trials)
            .filter(|_| {
                let d: Vec<f64> = (0..30)
                    .map(|_| 0.3 + rng.sample::<f64, _>(StandardNormal))
                    .collect();
                let s = hodges_lehmann(&d, 0.95).unwrap();
                s.low <= 0.3 && 0.3 <= s.high
            })
            .count() as u64;
        let test = binomial_test(covered, trials, 0.95).unwrap();
        assert!(test.p_value > 0.01, "covered {covered} of {trials}");
    }
}
