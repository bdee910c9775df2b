//! Sums of numbers far outside f64's range, carried as natural logarithms.

use serde::{Deserialize, Serialize};

/// A running `ln Σ exp(xᵢ)` (log-sum-exp), for probabilities and weights such as 1e-300 or
/// 1e-3000 that would underflow if exponentiated.
///
/// The state is `(m, s)` with `m = max xᵢ` and `s = Σ exp(xᵢ − m) ∈ [1, n]`, so every
/// update is a product of numbers near 1 and never overflows or underflows.
///
/// ```
/// use stuck::stats::LogSumExp;
/// let mut acc = LogSumExp::default();
/// acc.push(-1000.0);
/// acc.push(-1000.0);
/// assert!((acc.ln_sum() - (-1000.0 + 2f64.ln())).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LogSumExp {
    /// `None` for the empty sum (whose logarithm is −∞, which JSON cannot carry).
    max: Option<f64>,
    scaled_sum: f64,
}

impl LogSumExp {
    /// Adds `exp(ln_term)` to the sum; a term of −∞ (a zero) leaves it unchanged.
    pub fn push(&mut self, ln_term: f64) {
        if ln_term == f64::NEG_INFINITY {
            return;
        }
        match self.max {
            None => {
                self.max = Some(ln_term);
                self.scaled_sum = 1.0;
            }
            Some(m) if ln_term <= m => self.scaled_sum += (ln_term - m).exp(),
            Some(m) => {
                self.scaled_sum = self.scaled_sum * (m - ln_term).exp() + 1.0;
                self.max = Some(ln_term);
            }
        }
    }

    /// Adds another sum.
    pub fn merge(&mut self, other: &LogSumExp) {
        let Some(m_other) = other.max else { return };
        match self.max {
            None => *self = *other,
            Some(m) if m_other <= m => {
                self.scaled_sum += other.scaled_sum * (m_other - m).exp();
            }
            Some(m) => {
                self.scaled_sum = self.scaled_sum * (m - m_other).exp() + other.scaled_sum;
                self.max = Some(m_other);
            }
        }
    }

    /// `ln Σ exp(xᵢ)`; −∞ for the empty sum.
    pub fn ln_sum(&self) -> f64 {
        match self.max {
            None => f64::NEG_INFINITY,
            Some(m) => m + self.scaled_sum.ln(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn accumulate(xs: &[f64]) -> LogSumExp {
        let mut acc = LogSumExp::default();
        xs.iter().for_each(|&x| acc.push(x));
        acc
    }

    #[test]
    fn far_below_f64_range() {
        let acc = accumulate(&[-5000.0, -5001.0, f64::NEG_INFINITY]);
        let expected = -5000.0 + (1.0 + (-1f64).exp()).ln();
        assert!((acc.ln_sum() - expected).abs() < 1e-12);
        assert_eq!(LogSumExp::default().ln_sum(), f64::NEG_INFINITY);
    }

    proptest! {
        /// Merging two partial sums equals summing the concatenation, to 1e-12 relative.
        #[test]
        fn merge_equals_concatenation(
            xs in prop::collection::vec(-2000f64..2000.0, 0..100),
            ys in prop::collection::vec(-2000f64..2000.0, 0..100),
        ) {
            let mut merged = accumulate(&xs);
            merged.merge(&accumulate(&ys));
            let whole = accumulate(&[xs.clone(), ys.clone()].concat());
            let (a, b) = (merged.ln_sum(), whole.ln_sum());
            prop_assert!(a == b || (a - b).abs() <= 1e-12 * a.abs().max(1.0), "{} vs {}", a, b);
        }
    }
}
