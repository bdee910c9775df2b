//! Random Hessian models and the inertia (number of negative eigenvalues) of their samples.

use nalgebra::DMatrix;
use rand::Rng;
use rand::RngExt;
use rand_distr::StandardNormal;

/// The article's model: a diagonal Hessian whose `n` entries are independently positive or
/// negative with probability 1/2 each. Its index (number of negative eigenvalues) is
/// Binomial(n, 1/2), so `P(minimum) = 2⁻ⁿ` exactly.
#[derive(Debug, Clone, Copy)]
pub struct CoinHessian {
    n: usize,
}

impl CoinHessian {
    /// The model in dimension `n`.
    pub fn new(n: usize) -> Self {
        CoinHessian { n }
    }

    /// Draws the index: the number of negative diagonal entries among `n` fair signs.
    pub fn sample_index<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let mut remaining = self.n;
        let mut negatives = 0;
        while remaining > 0 {
            let take = remaining.min(64);
            let bits = rng.next_u64();
            let mask = if take == 64 {
                u64::MAX
            } else {
                (1u64 << take) - 1
            };
            negatives += (bits & mask).count_ones() as usize;
            remaining -= take;
        }
        negatives
    }
}

/// The Gaussian Orthogonal Ensemble as `H = (G + Gᵀ)/2`, `G` with iid N(0,1) entries: the
/// diagonal is N(0,1) and the off-diagonal N(0,1/2), independent (Mehta, *Random Matrices*,
/// 3rd ed., ch. 2). Sampled densely, with a reusable buffer so the sampling loop does not
/// allocate.
#[derive(Debug, Clone)]
pub struct DenseGoe {
    matrix: DMatrix<f64>,
}

impl DenseGoe {
    /// A sampler of `n × n` GOE matrices.
    pub fn new(n: usize) -> Self {
        DenseGoe {
            matrix: DMatrix::zeros(n, n),
        }
    }

    /// Draws a fresh matrix into the buffer and returns it.
    pub fn sample<R: Rng + ?Sized>(&mut self, rng: &mut R) -> &DMatrix<f64> {
        let n = self.matrix.nrows();
        for j in 0..n {
            self.matrix[(j, j)] = rng.sample::<f64, _>(StandardNormal);
            for i in (j + 1)..n {
                let h = rng.sample::<f64, _>(StandardNormal) * std::f64::consts::FRAC_1_SQRT_2;
                self.matrix[(i, j)] = h;
                self.matrix[(j, i)] = h;
            }
        }
        &self.matrix
    }

    /// Draws a matrix and returns its index, or `None` if its eigenvalues are not finite.
    pub fn sample_index<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<usize> {
        self.sample(rng);
        negative_eigenvalue_count(&self.matrix)
    }
}

/// The number of negative eigenvalues of a symmetric matrix, from a full symmetric
/// eigendecomposition (nalgebra's implicit QR); `None` if an eigenvalue is not finite.
///
/// ```
/// use nalgebra::dmatrix;
/// use stuck::landscape::negative_eigenvalue_count;
/// assert_eq!(negative_eigenvalue_count(&dmatrix![2.0, 0.0; 0.0, -1.0]), Some(1));
/// ```
pub fn negative_eigenvalue_count(matrix: &DMatrix<f64>) -> Option<usize> {
    let eigenvalues = matrix.symmetric_eigenvalues();
    eigenvalues
        .iter()
        .all(|x| x.is_finite())
        .then(|| eigenvalues.iter().filter(|&&x| x < 0.0).count())
}

/// `P(2×2 GOE matrix is positive definite) = (2 − √2)/4`, the exact small case used as a
/// check (Dean & Majumdar, *PRE* 77, 041108, 2008, give the general large-n law).
pub fn goe_2x2_positive_definite_probability() -> f64 {
    (2.0 - std::f64::consts::SQRT_2) / 4.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::chunk_stream;
    use crate::stats::{Proportion, chi_square_goodness_of_fit};

    #[test]
    fn coin_index_is_binomial_half() {
        let mut rng = chunk_stream(1, "test", 0, 0);
        for n in [1usize, 7, 64, 100] {
            let model = CoinHessian::new(n);
            let samples = 20_000;
            let mut histogram = vec![0u64; n + 1];
            for _ in 0..samples {
                histogram[model.sample_index(&mut rng)] += 1;
            }
            let binomial: Vec<f64> = (0..=n)
                .map(|k| {
                    statrs::function::factorial::binomial(n as u64, k as u64)
                        * 0.5f64.powi(n as i32)
                })
                .collect();
            // Level 1e-6: a false alarm once in a million seeds.
            let test = chi_square_goodness_of_fit(&histogram, &binomial).unwrap();
            assert!(test.p_value > 1e-6, "n = {n}: p = {}", test.p_value);
        }
    }

    #[test]
    fn goe_2x2_matches_exact_probability() {
        let mut rng = chunk_stream(2, "test", 0, 0);
        let mut sampler = DenseGoe::new(2);
        let mut minima = Proportion::default();
        for _ in 0..200_000 {
            minima.record(sampler.sample_index(&mut rng) == Some(0));
        }
        let exact = goe_2x2_positive_definite_probability();
        // 5-sigma rule with the binomial standard error under the exact value.
        let sigma = (exact * (1.0 - exact) / minima.trials as f64).sqrt();
        assert!(
            (minima.estimate() - exact).abs() < 5.0 * sigma,
            "{} vs {exact}",
            minima.estimate()
        );
    }

    #[test]
    fn goe_entries_have_the_right_variances() {
        let mut rng = chunk_stream(3, "test", 0, 0);
        let mut sampler = DenseGoe::new(3);
        let (mut diagonal, mut off) = (
            crate::stats::MeanVar::default(),
            crate::stats::MeanVar::default(),
        );
        for _ in 0..50_000 {
            let m = sampler.sample(&mut rng);
            diagonal.push(m[(1, 1)] * m[(1, 1)]);
            off.push(m[(0, 2)] * m[(0, 2)]);
            assert_eq!(m[(0, 2)], m[(2, 0)]);
        }
        // E[x²] = 1 and 1/2; 5 standard errors of the sample mean of x².
        assert!((diagonal.mean() - 1.0).abs() < 5.0 * diagonal.standard_error());
        assert!((off.mean() - 0.5).abs() < 5.0 * off.standard_error());
    }
}
