//! Streaming, mergeable mean and variance.

use serde::{Deserialize, Serialize};

/// Running count, mean and sum of squared deviations of a stream of numbers.
///
/// Single values are added with Welford's update (B. P. Welford, *Technometrics* 4, 419,
/// 1962); two accumulators are combined with the pairwise formula of Chan, Golub & LeVeque
/// (*The American Statistician* 37, 242, 1983):
///
/// ```text
/// δ = mean_b − mean_a,  n = n_a + n_b
/// mean = mean_a + δ·n_b/n,  M2 = M2_a + M2_b + δ²·n_a·n_b/n
/// ```
///
/// Both are numerically stable, so chunks of a Monte Carlo run can be accumulated
/// independently and merged in a fixed order without ever storing the samples.
///
/// ```
/// use stuck::stats::MeanVar;
/// let mut a = MeanVar::default();
/// for x in [1.0, 2.0, 3.0] { a.push(x); }
/// let mut b = MeanVar::default();
/// b.push(4.0);
/// a.merge(&b);
/// assert_eq!(a.count(), 4);
/// assert!((a.mean() - 2.5).abs() < 1e-15);
/// assert!((a.sample_variance() - 5.0 / 3.0).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct MeanVar {
    count: u64,
    mean: f64,
    m2: f64,
}

impl MeanVar {
    /// Adds one observation (Welford's update).
    pub fn push(&mut self, x: f64) {
        self.count += 1;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Absorbs another accumulator (Chan–Golub–LeVeque pairwise update).
    pub fn merge(&mut self, other: &MeanVar) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        let n_a = self.count as f64;
        let n_b = other.count as f64;
        let n = n_a + n_b;
        let delta = other.mean - self.mean;
        self.mean += delta * n_b / n;
        self.m2 += other.m2 + delta * delta * n_a * n_b / n;
        self.count += other.count;
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sample mean (0 when empty).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// Unbiased sample variance `M2/(n−1)`; NaN with fewer than two observations.
    pub fn sample_variance(&self) -> f64 {
        if self.count < 2 {
            f64::NAN
        } else {
            self.m2 / (self.count - 1) as f64
        }
    }

    /// Sample standard deviation.
    pub fn sample_sd(&self) -> f64 {
        self.sample_variance().sqrt()
    }

    /// Standard error of the mean, `sd/√n`.
    pub fn standard_error(&self) -> f64 {
        (self.sample_variance() / self.count as f64).sqrt()
    }

    /// The band `mean ± widths·SE` as `(low, high)`, e.g. the error bar of a figure (NaN ends
    /// with fewer than two observations, which a plot leaves out).
    ///
    /// ```
    /// use stuck::stats::MeanVar;
    /// let mut acc = MeanVar::default();
    /// for x in [1.0, 2.0, 3.0, 4.0] {
    ///     acc.push(x);
    /// }
    /// let se = acc.standard_error();
    /// assert_eq!(acc.band(2.0), (2.5 - 2.0 * se, 2.5 + 2.0 * se));
    /// ```
    pub fn band(&self, widths: f64) -> (f64, f64) {
        let half = widths * self.standard_error();
        (self.mean - half, self.mean + half)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn accumulate(xs: &[f64]) -> MeanVar {
        let mut acc = MeanVar::default();
        xs.iter().for_each(|&x| acc.push(x));
        acc
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
    }

    #[test]
    fn matches_textbook_values() {
        // Var of 2,4,4,4,5,5,7,9 is 4 (population) or 32/7 (sample).
        let acc = accumulate(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(acc.mean(), 5.0);
        assert!(close(acc.sample_variance(), 32.0 / 7.0));
    }

    #[test]
    fn empty_and_single_are_handled() {
        let mut acc = MeanVar::default();
        assert!(acc.sample_variance().is_nan());
        acc.merge(&MeanVar::default());
        assert_eq!(acc.count(), 0);
        acc.push(3.0);
        assert!(acc.sample_variance().is_nan());
        assert_eq!(acc.mean(), 3.0);
    }

    proptest! {
        /// Merging the accumulators of two halves equals accumulating the concatenation.
        #[test]
        fn merge_equals_concatenation(
            xs in prop::collection::vec(-1e6f64..1e6, 0..200),
            ys in prop::collection::vec(-1e6f64..1e6, 0..200),
        ) {
            let mut merged = accumulate(&xs);
            merged.merge(&accumulate(&ys));
            let whole = accumulate(&[xs.clone(), ys.clone()].concat());
            // Relative 1e-12 of the data's scale: the mean is conditioned on max|x|,
            // the variance on max|x|².
            let scale = xs.iter().chain(&ys).fold(1.0f64, |m, x| m.max(x.abs()));
            prop_assert_eq!(merged.count(), whole.count());
            prop_assert!((merged.mean() - whole.mean()).abs() <= 1e-12 * scale);
            if whole.count() >= 2 {
                let (a, b) = (merged.sample_variance(), whole.sample_variance());
                prop_assert!((a - b).abs() <= 1e-12 * scale * scale, "{} vs {}", a, b);
            }
        }
    }
}
