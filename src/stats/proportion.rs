//! Binomial proportions: point estimates, confidence bounds and their logarithms.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use super::StatsError;

/// A count of successes among independent Bernoulli trials, e.g. "sampled Hessians that were
/// positive definite".
///
/// Merging adds counts, which is exact, so chunked runs reproduce a single run bit for bit.
///
/// ```
/// use stuck::stats::Proportion;
/// let p = Proportion::new(7, 20);
/// let (lo, hi) = p.clopper_pearson(0.95).unwrap();
/// // R: binom.test(7, 20)$conf.int
/// assert!((lo - 0.1539092).abs() < 1e-7 && (hi - 0.5921885).abs() < 1e-7);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proportion {
    /// Number of successes.
    pub successes: u64,
    /// Number of trials.
    pub trials: u64,
}

/// Two-sided standard normal quantile `z = Φ⁻¹(1 − α/2)` for a confidence level `1 − α`.
pub fn two_sided_z(confidence: f64) -> Result<f64, StatsError> {
    check_confidence(confidence)?;
    Ok(standard_normal().inverse_cdf(0.5 + confidence / 2.0))
}

pub(crate) fn standard_normal() -> Normal {
    Normal::standard()
}

fn check_confidence(confidence: f64) -> Result<(), StatsError> {
    if confidence > 0.0 && confidence < 1.0 {
        Ok(())
    } else {
        Err(StatsError::ConfidenceOutOfRange(confidence))
    }
}

impl Proportion {
    /// A proportion of `successes` out of `trials` (`successes ≤ trials` is the caller's
    /// invariant; it is checked in debug builds).
    pub fn new(successes: u64, trials: u64) -> Self {
        debug_assert!(successes <= trials);
        Proportion { successes, trials }
    }

    /// Records one trial.
    pub fn record(&mut self, success: bool) {
        self.trials += 1;
        self.successes += u64::from(success);
    }

    /// Adds the counts of another proportion.
    pub fn merge(&mut self, other: &Proportion) {
        self.successes += other.successes;
        self.trials += other.trials;
    }

    /// Maximum-likelihood estimate `k/n` (NaN without trials).
    pub fn estimate(&self) -> f64 {
        if self.trials == 0 {
            f64::NAN
        } else {
            self.successes as f64 / self.trials as f64
        }
    }

    /// Binomial standard error `√(p̂(1−p̂)/n)` of the estimate.
    pub fn standard_error(&self) -> f64 {
        let p = self.estimate();
        (p * (1.0 - p) / self.trials as f64).sqrt()
    }

    /// Natural logarithm of the estimate, `ln(k/n)` (−∞ when `k = 0`).
    pub fn ln_estimate(&self) -> f64 {
        (self.successes as f64).ln() - (self.trials as f64).ln()
    }

    /// Delta-method standard error of `ln p̂`: `√((1−p̂)/k)` (infinite when `k = 0`).
    pub fn ln_standard_error(&self) -> f64 {
        ((1.0 - self.estimate()) / self.successes as f64).sqrt()
    }

    /// Wilson score interval (E. B. Wilson, *JASA* 22, 209, 1927):
    ///
    /// ```text
    /// (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)
    /// ```
    ///
    /// Good coverage even for rare events, unlike the Wald interval.
    pub fn wilson(&self, confidence: f64) -> Result<(f64, f64), StatsError> {
        let z = two_sided_z(confidence)?;
        if self.trials == 0 {
            return Ok((0.0, 1.0));
        }
        let n = self.trials as f64;
        let p = self.estimate();
        let z2 = z * z;
        let denominator = 1.0 + z2 / n;
        let centre = (p + z2 / (2.0 * n)) / denominator;
        let half = z / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
        Ok(((centre - half).max(0.0), (centre + half).min(1.0)))
    }

    /// Clopper–Pearson "exact" interval (C. J. Clopper & E. S. Pearson, *Biometrika* 26, 404,
    /// 1934) from Beta quantiles:
    ///
    /// ```text
    /// lower = B⁻¹(α/2; k, n−k+1),   upper = B⁻¹(1−α/2; k+1, n−k)
    /// ```
    ///
    /// with `lower = 0` when `k = 0` and `upper = 1` when `k = n`; it matches R's
    /// `binom.test`. Conservative: coverage is at least the nominal level.
    pub fn clopper_pearson(&self, confidence: f64) -> Result<(f64, f64), StatsError> {
        check_confidence(confidence)?;
        if self.trials == 0 {
            return Ok((0.0, 1.0));
        }
        let alpha = 1.0 - confidence;
        let (k, n) = (self.successes as f64, self.trials as f64);
        // Closed forms at the edges: (1 − p)^n = α/2 for k = 0, p^n = α/2 for k = n.
        let edge = ((alpha / 2.0).ln() / n).exp();
        let lower = if self.successes == 0 {
            0.0
        } else if self.successes == self.trials {
            edge
        } else {
            beta_quantile(k, n - k + 1.0, alpha / 2.0)?
        };
        let upper = if self.successes == self.trials {
            1.0
        } else if self.successes == 0 {
            -((alpha / 2.0).ln() / n).exp_m1()
        } else {
            beta_quantile(k + 1.0, n - k, 1.0 - alpha / 2.0)?
        };
        Ok((lower, upper))
    }
}

/// The `q`-quantile of Beta(a, b), by bisection on the regularized incomplete beta function
/// `I_x(a, b)` (statrs `beta_reg`) in at most 2 100 steps; its accuracy is that of
/// `beta_reg`, about 1e-9 relative for extreme shapes.
///
/// statrs' own `Beta::inverse_cdf` does not terminate for some extreme shapes met here
/// (e.g. a = 1, b = 8·10⁶, the upper bound for zero successes in eight million trials), so
/// the quantile is found by a bisection that always ends: geometric while the bracket spans
/// orders of magnitude (tiny quantiles of rare events), arithmetic after.
fn beta_quantile(a: f64, b: f64, q: f64) -> Result<f64, StatsError> {
    if !(a > 0.0 && b > 0.0 && (0.0..=1.0).contains(&q)) {
        return Err(StatsError::Distribution(format!(
            "Beta({a}, {b}) quantile {q}"
        )));
    }
    let (mut low, mut high) = (0.0f64, 1.0f64);
    for _ in 0..2100 {
        let mid = if low > 0.0 && high / low > 4.0 {
            (low * high).sqrt()
        } else if low == 0.0 {
            (high * 1e-3).max(f64::MIN_POSITIVE).min(0.5 * high)
        } else {
            0.5 * (low + high)
        };
        if mid <= low || mid >= high {
            break;
        }
        if statrs::function::beta::beta_reg(a, b, mid) < q {
            low = mid;
        } else {
            high = mid;
        }
    }
    Ok(0.5 * (low + high))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference intervals from R 4.x `binom.test(k, n)$conf.int` (Clopper–Pearson) and
    /// `prop.test(k, n, correct = FALSE)$conf.int` (Wilson), 95 %.
    type Interval = (f64, f64);
    const REFERENCE: [(u64, u64, Interval, Interval); 4] = [
        (
            7,
            20,
            (0.1539092047845412, 0.5921885345328283),
            (0.1811918241010821, 0.5671457233147637),
        ),
        (
            0,
            10,
            (0.0, 0.30849710781876294),
            (0.0, 0.27753279986288926),
        ),
        (10, 10, (0.6915028921812371, 1.0), (0.7224672001371109, 1.0)),
        (
            3,
            1000,
            (0.0006190999316499173, 0.008742023238657654),
            (0.0010207838811386186, 0.008783014053503173),
        ),
    ];

    #[test]
    fn intervals_match_reference_values() {
        for (k, n, cp, wilson) in REFERENCE {
            let p = Proportion::new(k, n);
            let (lo, hi) = p.clopper_pearson(0.95).unwrap();
            assert!(
                (lo - cp.0).abs() < 1e-9 && (hi - cp.1).abs() < 1e-9,
                "CP {k}/{n}: {lo} {hi}"
            );
            let (lo, hi) = p.wilson(0.95).unwrap();
            assert!(
                (lo - wilson.0).abs() < 1e-9 && (hi - wilson.1).abs() < 1e-9,
                "Wilson {k}/{n}: {lo} {hi}"
            );
        }
    }

    #[test]
    fn extreme_counts_terminate_with_the_closed_form() {
        // Zero successes: the upper bound solves (1 − p)^n = α/2.
        for n in [8_000_000u64, 100_000_000] {
            let (lo, hi) = Proportion::new(0, n).clopper_pearson(0.95).unwrap();
            let exact = -(0.025f64.ln() / n as f64).exp_m1();
            assert_eq!(lo, 0.0);
            assert!((hi - exact).abs() < 1e-14 * exact, "{hi} vs {exact}");
        }
        // k = 3 of 1e8: the Poisson limit chi2.ppf(0.025, 6)/2n and chi2.ppf(0.975, 8)/2n
        // (scipy) differs from the binomial bounds by O(k/n) ≈ 1e-7 relative. (scipy's own
        // binomtest interval is off by 2e-6 here.)
        let (lo, hi) = Proportion::new(3, 100_000_000)
            .clopper_pearson(0.95)
            .unwrap();
        assert!((lo / 6.186721228956014e-09 - 1.0).abs() < 1e-6, "{lo}");
        assert!((hi / 8.767273069742323e-08 - 1.0).abs() < 1e-6, "{hi}");
    }

    #[test]
    fn rejects_bad_confidence() {
        let p = Proportion::new(1, 2);
        for level in [0.0, 1.0, -0.5, f64::NAN] {
            assert!(p.wilson(level).is_err());
            assert!(p.clopper_pearson(level).is_err());
        }
    }

    #[test]
    fn log_estimate_and_its_error() {
        let p = Proportion::new(25, 100);
        assert!((p.ln_estimate() - 0.25f64.ln()).abs() < 1e-15);
        assert!((p.ln_standard_error() - (0.75f64 / 25.0).sqrt()).abs() < 1e-15);
    }
}
