//! A mergeable histogram of positive counts (e.g. escape times in steps) over log-spaced
//! bins, for quantiles and distribution tests without storing samples.

use serde::{Deserialize, Serialize};

/// Bin ratio: bin k holds values in `[r^k, r^{k+1})` with `r = 1.02`, so quantiles are
/// resolved to 2 % whatever the scale (1 step or 10¹² steps); 0 has its own bin.
const RATIO: f64 = 1.02;

/// Counts of non-negative integers in log-spaced bins.
///
/// ```
/// use stuck::stats::LogHistogram;
/// let mut h = LogHistogram::default();
/// for t in 1..=1000 { h.push(t); }
/// let median = h.quantile(0.5).unwrap();
/// assert!((median / 500.0 - 1.0).abs() < 0.03);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogHistogram {
    zeros: u64,
    counts: Vec<u64>,
}

impl LogHistogram {
    fn bin(value: u64) -> usize {
        // Exact for powers of the ratio up to rounding; values at an edge may land either side,
        // which moves them by one bin (2 %).
        ((value as f64).ln() / RATIO.ln()).floor() as usize
    }

    /// Lower edge of bin k.
    fn edge(k: usize) -> f64 {
        RATIO.powi(k as i32)
    }

    /// Adds one value.
    pub fn push(&mut self, value: u64) {
        if value == 0 {
            self.zeros += 1;
            return;
        }
        let k = Self::bin(value);
        if self.counts.len() <= k {
            self.counts.resize(k + 1, 0);
        }
        self.counts[k] += 1;
    }

    /// Adds another histogram.
    pub fn merge(&mut self, other: &LogHistogram) {
        self.zeros += other.zeros;
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }

    /// Number of values.
    pub fn total(&self) -> u64 {
        self.zeros + self.counts.iter().sum::<u64>()
    }

    /// The q-quantile, interpolated geometrically inside its bin (within 2 %); `None` when
    /// empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        let target = q.clamp(0.0, 1.0) * total as f64;
        let mut below = self.zeros as f64;
        if target <= below {
            return Some(0.0);
        }
        for (k, &c) in self.counts.iter().enumerate() {
            if c > 0 && below + c as f64 >= target {
                let fraction = (target - below) / c as f64;
                return Some(Self::edge(k) * RATIO.powf(fraction));
            }
            below += c as f64;
        }
        self.counts.len().checked_sub(1).map(|k| Self::edge(k + 1))
    }

    /// Kolmogorov–Smirnov distance to a continuous CDF, evaluated at the bin edges: a lower
    /// bound on the exact statistic that misses at most the largest bin's mass.
    pub fn ks_distance(&self, cdf: impl Fn(f64) -> f64) -> f64 {
        let total = self.total() as f64;
        let mut below = self.zeros as f64;
        let mut distance = (below / total - cdf(0.5)).abs();
        for (k, &c) in self.counts.iter().enumerate() {
            distance = distance.max((below / total - cdf(Self::edge(k))).abs());
            below += c as f64;
            distance = distance.max((below / total - cdf(Self::edge(k + 1))).abs());
        }
        distance
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_equals_concatenation_and_quantiles_are_close() {
        let (mut a, mut b, mut whole) = (
            LogHistogram::default(),
            LogHistogram::default(),
            LogHistogram::default(),
        );
        for t in 0..5000u64 {
            let v = t * t % 9973;
            if t % 2 == 0 {
                a.push(v)
            } else {
                b.push(v)
            }
            whole.push(v);
        }
        a.merge(&b);
        assert_eq!(a, whole);
        let mut values: Vec<u64> = (0..5000u64).map(|t| t * t % 9973).collect();
        values.sort_unstable();
        for q in [0.1, 0.5, 0.9] {
            let exact = values[(q * 5000.0) as usize] as f64;
            let approx = whole.quantile(q).unwrap();
            assert!(
                (approx / exact - 1.0).abs() < 0.03,
                "q = {q}: {approx} vs {exact}"
            );
        }
    }

    #[test]
    fn ks_distance_detects_the_wrong_law() {
        let mut h = LogHistogram::default();
        for t in 1..=10_000u64 {
            h.push(t);
        }
        let uniform = |x: f64| (x / 10_000.0).clamp(0.0, 1.0);
        assert!(h.ks_distance(uniform) < 0.01);
        let exponential = |x: f64| 1.0 - (-x / 5000.0).exp();
        assert!(h.ks_distance(exponential) > 0.1);
    }
}
