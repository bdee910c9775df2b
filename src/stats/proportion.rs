//! Binomial proportions: point estimates, confidence bounds and their logarithms.

use serde::{Deserialize, Serialize};
use statrs::distribution::{Beta, ContinuousCDF, Normal};

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
        let lower = if self.successes == 0 {
            0.0
        } else {
            beta(k, n - k + 1.0)?.inverse_cdf(alpha / 2.0)
        };
        let upper = if self.successes == self.trials {
            1.0
        } else {
            beta(k + 1.0, n - k)?.inverse_cdf(1.0 - alpha / 2.0)
        };
        Ok((lower, upper))
    }
}

fn beta(a: f64, b: f64) -> Result<Beta, StatsError> {
    Beta::new(a, b).map_err(|e| StatsError::Distribution(e.to_string()))
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
