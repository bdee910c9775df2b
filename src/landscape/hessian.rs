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

/// A dense Wigner matrix: symmetric, with independent centred Gaussian entries of variance
/// 1 on the diagonal and `1/ratio` off it.
///
/// `ratio = 2` is the Gaussian Orthogonal Ensemble `H = (G + Gᵀ)/2`, `G` with iid N(0,1)
/// entries (Mehta, *Random Matrices*, 3rd ed., ch. 2); `ratio → ∞` is the article's diagonal
/// model with independent signs. Sampled into a reusable buffer, so the sampling loop does
/// not allocate the matrix.
#[derive(Debug, Clone)]
pub struct DenseWigner {
    matrix: DMatrix<f64>,
    offdiagonal_sd: f64,
}

impl DenseWigner {
    /// `n × n` GOE matrices (`ratio = 2`).
    pub fn goe(n: usize) -> Self {
        Self::with_variance_ratio(n, 2.0)
    }

    /// `n × n` matrices with diagonal/off-diagonal variance ratio `ratio > 0`.
    pub fn with_variance_ratio(n: usize, ratio: f64) -> Self {
        DenseWigner {
            matrix: DMatrix::zeros(n, n),
            offdiagonal_sd: (1.0 / ratio).sqrt(),
        }
    }

    /// Draws a fresh matrix into the buffer and returns it.
    pub fn sample<R: Rng + ?Sized>(&mut self, rng: &mut R) -> &DMatrix<f64> {
        let n = self.matrix.nrows();
        for j in 0..n {
            self.matrix[(j, j)] = rng.sample::<f64, _>(StandardNormal);
            for i in (j + 1)..n {
                let h = rng.sample::<f64, _>(StandardNormal) * self.offdiagonal_sd;
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

/// Gauss–Newton-type Hessians `H = XᵀX/m − μI`, `X` an `m × n` matrix of iid N(0,1):
/// a shifted Wishart (Laguerre) matrix whose spectrum fills the Marchenko–Pastur law of
/// ratio `γ = n/m` as n grows, shifted left by `μ`.
#[derive(Debug, Clone)]
pub struct ShiftedWishart {
    data: DMatrix<f64>,
    hessian: DMatrix<f64>,
    shift: f64,
}

impl ShiftedWishart {
    /// `n × n` Hessians from `m` samples, shifted by `shift`.
    pub fn new(n: usize, m: usize, shift: f64) -> Self {
        ShiftedWishart {
            data: DMatrix::zeros(m, n),
            hessian: DMatrix::zeros(n, n),
            shift,
        }
    }

    /// Draws a Hessian and returns its index, or `None` if its eigenvalues are not finite.
    pub fn sample_index<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<usize> {
        for x in self.data.iter_mut() {
            *x = rng.sample(StandardNormal);
        }
        let m = self.data.nrows() as f64;
        self.hessian.gemm_tr(1.0 / m, &self.data, &self.data, 0.0);
        for i in 0..self.hessian.nrows() {
            self.hessian[(i, i)] -= self.shift;
        }
        negative_eigenvalue_count(&self.hessian)
    }
}

/// The Marchenko–Pastur distribution function `F(x)`: the limiting fraction of eigenvalues of
/// `XᵀX/m` below `x` when `n/m → γ` (V. A. Marchenko & L. A. Pastur, *Math. USSR Sb.* 1, 457,
/// 1967). Density `√((λ₊ − t)(t − λ₋)) / (2πγt)` on `[λ₋, λ₊]`, `λ± = (1 ± √γ)²`, plus an atom
/// `1 − 1/γ` at 0 when `γ > 1`. Integrated numerically (Simpson's rule after `t = λ₋ +
/// (λ₊ − λ₋)(1 − cos φ)/2`, which removes the square-root end points), error below 1e-9.
///
/// ```
/// use stuck::landscape::marchenko_pastur_cdf;
/// assert!((marchenko_pastur_cdf(0.5, 100.0) - 1.0).abs() < 1e-9);
/// assert_eq!(marchenko_pastur_cdf(0.5, 0.0), 0.0);
/// ```
pub fn marchenko_pastur_cdf(gamma: f64, x: f64) -> f64 {
    let (low, high) = ((1.0 - gamma.sqrt()).powi(2), (1.0 + gamma.sqrt()).powi(2));
    let atom = if gamma > 1.0 { 1.0 - 1.0 / gamma } else { 0.0 };
    if x < 0.0 {
        return 0.0;
    }
    if x <= low {
        return atom;
    }
    let phi_max = if x >= high {
        std::f64::consts::PI
    } else {
        (1.0 - 2.0 * (x - low) / (high - low)).acos()
    };
    let half_width = (high - low) / 2.0;
    // t(φ) = low + w(1 − cos φ); dt = w sin φ dφ; √((λ₊−t)(t−λ₋)) = w sin φ.
    let integrand = |phi: f64| {
        let t = low + half_width * (1.0 - phi.cos());
        let s = half_width * phi.sin();
        // At γ = 1 the lower edge is 0 and s²/t → w(1 + cos φ) as φ → 0.
        let ratio = if t == 0.0 {
            half_width * (1.0 + phi.cos())
        } else {
            s * s / t
        };
        ratio / (2.0 * std::f64::consts::PI * gamma)
    };
    let steps = 2000;
    let h = phi_max / steps as f64;
    let mut sum = integrand(0.0) + integrand(phi_max);
    for i in 1..steps {
        sum += integrand(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    (atom + sum * h / 3.0).min(1.0)
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
        let mut sampler = DenseWigner::goe(2);
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
        let mut sampler = DenseWigner::goe(3);
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

    #[test]
    fn wishart_index_follows_marchenko_pastur() {
        // n = 40, m = 80 (γ = 1/2), shift at the MP median-ish point: the mean index fraction
        // converges to F(μ) with O(1/n) corrections; 0.02 is well above them at n = 40 and
        // 60 standard errors of the mean over 400 samples.
        let mut rng = chunk_stream(8, "test", 0, 0);
        let (n, m, shift) = (40, 80, 0.8);
        let mut sampler = ShiftedWishart::new(n, m, shift);
        let mut fraction = crate::stats::MeanVar::default();
        for _ in 0..400 {
            fraction.push(sampler.sample_index(&mut rng).unwrap() as f64 / n as f64);
        }
        let expected = marchenko_pastur_cdf(0.5, shift);
        assert!(
            (fraction.mean() - expected).abs() < 0.02,
            "{} vs {expected}",
            fraction.mean()
        );
    }

    #[test]
    fn marchenko_pastur_total_mass_and_atom() {
        for gamma in [0.1, 0.5, 1.0, 2.0] {
            assert!(
                (marchenko_pastur_cdf(gamma, 1e3) - 1.0).abs() < 1e-9,
                "γ = {gamma}"
            );
        }
        assert!((marchenko_pastur_cdf(2.0, 1e-12) - 0.5).abs() < 1e-12);
        // Reference values from scipy.integrate.quad of the density.
        for (gamma, x, expected) in [
            (0.5, 0.8, 0.48528023480007815),
            (1.0, 1.0, 0.6089977810442362),
            (0.25, 0.5, 0.18637840824217874),
        ] {
            assert!(
                (marchenko_pastur_cdf(gamma, x) - expected).abs() < 1e-9,
                "F({gamma}, {x})"
            );
        }
        let values: Vec<f64> = (0..50)
            .map(|i| marchenko_pastur_cdf(0.5, i as f64 * 0.1))
            .collect();
        assert!(values.windows(2).all(|w| w[1] >= w[0]));
    }
}
