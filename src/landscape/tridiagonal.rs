//! The Dumitriu–Edelman tridiagonal model of the GOE and the Sturm (Sylvester inertia) count
//! of its negative eigenvalues in O(n), with entries drawn lazily.

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

/// A random symmetric tridiagonal matrix with the eigenvalue law of a Gaussian ensemble
/// (I. Dumitriu & A. Edelman, "Matrix models for beta ensembles", *J. Math. Phys.* 43, 5830,
/// 2002, Theorem 2.12, β = 1):
///
/// ```text
/// diagonal a_k ~ N(0, σ²),   off-diagonal b_k² ~ s·χ²_{n−k},  k = 1..n−1, all independent.
/// ```
///
/// With `σ² = 1, s = 1/2` this is the GOE `H = (G + Gᵀ)/2` (diagonal variance 1, off-diagonal
/// 1/2); with `σ² = 2, s = 1` it is the matrix `W` of a Gaussian random field's Hessian
/// (off-diagonal variance 1, diagonal 2).
///
/// Inertia comes from Sylvester's law through the LDLᵀ pivots of `T + shift·I`:
/// `d_1 = a_1 + shift`, `d_k = a_k + shift − b_{k−1}²/d_{k−1}`; the number of negative pivots
/// is the number of eigenvalues below `−shift`.
#[derive(Debug, Clone)]
pub struct TridiagonalEnsemble {
    diagonal_sd: f64,
    offdiagonal_scale: f64,
    /// `chi[k − 1]` samples `b_k²`, `s` times a χ² with `n − k` degrees of freedom.
    chi: Vec<ScaledChiSquared>,
}

/// `s·χ²_ν`, sampled exactly and fast: `χ²_ν = 2·Gamma(ν/2)` by the squeeze method of G.
/// Marsaglia & W. W. Tsang, "A simple method for generating gamma variables", *ACM TOMS* 26,
/// 363 (2000) for ν ≥ 2 (constants precomputed), and `Z²` for ν = 1. It is the inner loop of
/// every tridiagonal sample, so it avoids the generic distribution wrappers.
#[derive(Debug, Clone, Copy)]
struct ScaledChiSquared {
    /// `d = ν/2 − 1/3`.
    d: f64,
    /// `c = 1/√(9d)`.
    c: f64,
    /// `2s·d`, the factor of the accepted `v`; for ν = 1, `s`.
    factor: f64,
    one_dof: bool,
}

impl ScaledChiSquared {
    fn new(dof: usize, scale: f64) -> Self {
        let d = dof as f64 / 2.0 - 1.0 / 3.0;
        ScaledChiSquared {
            d,
            c: 1.0 / (9.0 * d).sqrt(),
            factor: if dof == 1 { scale } else { 2.0 * scale * d },
            one_dof: dof == 1,
        }
    }

    #[inline]
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if self.one_dof {
            let z: f64 = rng.sample(StandardNormal);
            return self.factor * z * z;
        }
        loop {
            let x: f64 = rng.sample(StandardNormal);
            let t = 1.0 + self.c * x;
            if t <= 0.0 {
                continue;
            }
            let v = t * t * t;
            // Uniform on (0, 1]: 53 random bits, never 0 so its logarithm is finite.
            let u = ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64);
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + self.d * (1.0 - v + v.ln()) {
                return self.factor * v;
            }
        }
    }
}

/// A pivot this small counts as negative, as in LAPACK's `dlaebz` (which replaces
/// `|d| ≤ pivmin` by `−pivmin`), so that an exact zero is never divided by.
const PIVOT_MIN: f64 = f64::MIN_POSITIVE;

/// The Sturm pivots of one sampled matrix: what the inertia count found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inertia {
    /// Number of negative pivots (eigenvalues below `−shift`).
    pub negative: usize,
    /// `ln |det(T + shift·I)| = Σ ln |d_k|`.
    pub ln_abs_det: f64,
}

impl TridiagonalEnsemble {
    /// The model in dimension `n ≥ 1` with diagonal standard deviation `diagonal_sd` and
    /// off-diagonal scale `offdiagonal_scale` (`b_k² ~ scale·χ²_{n−k}`).
    pub fn new(n: usize, diagonal_sd: f64, offdiagonal_scale: f64) -> Self {
        let chi = (1..n)
            .map(|k| ScaledChiSquared::new(n - k, offdiagonal_scale))
            .collect();
        TridiagonalEnsemble {
            diagonal_sd,
            offdiagonal_scale,
            chi,
        }
    }

    /// The GOE of [`crate::landscape::DenseWigner`]: diagonal N(0,1), off-diagonal N(0,1/2).
    pub fn goe(n: usize) -> Self {
        Self::new(n, 1.0, 0.5)
    }

    /// The `W` part of a Gaussian-field Hessian: diagonal N(0,2), off-diagonal N(0,1).
    pub fn gaussian_field(n: usize) -> Self {
        Self::new(n, std::f64::consts::SQRT_2, 1.0)
    }

    /// Dimension n.
    pub fn dimension(&self) -> usize {
        self.chi.len() + 1
    }

    /// Standard deviation of a diagonal entry.
    pub fn diagonal_sd(&self) -> f64 {
        self.diagonal_sd
    }

    /// The off-diagonal scale `s` in `b_k² ~ s·χ²_{n−k}`.
    pub fn offdiagonal_scale(&self) -> f64 {
        self.offdiagonal_scale
    }

    /// Draws `b_k²` for `k = 1..n−1`.
    #[inline]
    pub fn offdiagonal_squared<R: Rng + ?Sized>(&self, k: usize, rng: &mut R) -> f64 {
        self.chi[k - 1].sample(rng)
    }

    #[inline]
    fn diagonal<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.diagonal_sd * rng.sample::<f64, _>(StandardNormal)
    }

    /// Draws a matrix into `diagonal` (length n) and `offdiagonal_squared` (length n − 1,
    /// `b_k²` for `k = 1..n−1`).
    pub fn draw_into<R: Rng + ?Sized>(
        &self,
        diagonal: &mut [f64],
        offdiagonal_squared: &mut [f64],
        rng: &mut R,
    ) {
        for d in diagonal.iter_mut() {
            *d = self.diagonal(rng);
        }
        for (k, b2) in offdiagonal_squared.iter_mut().enumerate() {
            *b2 = self.offdiagonal_squared(k + 1, rng);
        }
    }

    /// Draws a matrix and counts its eigenvalues below `−shift`, with `ln |det(T + shift)|`.
    /// `None` if a pivot is not finite (counted as a divergence by callers).
    pub fn inertia<R: Rng + ?Sized>(&self, shift: f64, rng: &mut R) -> Option<Inertia> {
        let mut negative = 0;
        let mut ln_abs_det = 0.0;
        let mut pivot = guard(self.diagonal(rng) + shift);
        for k in 1..=self.dimension() {
            if k > 1 {
                let b2 = self.offdiagonal_squared(k - 1, rng);
                pivot = guard(self.diagonal(rng) + shift - b2 / pivot);
            }
            if !pivot.is_finite() {
                return None;
            }
            negative += usize::from(pivot < 0.0);
            ln_abs_det += pivot.abs().ln();
        }
        Some(Inertia {
            negative,
            ln_abs_det,
        })
    }

    /// Draws a matrix and counts its eigenvalues below `−shift` (the index when `shift = 0`),
    /// without the determinant; `None` if a pivot is not finite.
    pub fn negative_count<R: Rng + ?Sized>(&self, shift: f64, rng: &mut R) -> Option<usize> {
        let mut pivot = guard(self.diagonal(rng) + shift);
        let mut negative = usize::from(pivot < 0.0);
        for k in 2..=self.dimension() {
            let b2 = self.offdiagonal_squared(k - 1, rng);
            pivot = guard(self.diagonal(rng) + shift - b2 / pivot);
            negative += usize::from(pivot < 0.0);
        }
        pivot.is_finite().then_some(negative)
    }

    /// Two independent draws of [`negative_count`](Self::negative_count), one from each
    /// generator, interleaved in one loop so that the two serial chains of divisions and
    /// random draws overlap in the processor (about 1.4× the throughput of two calls).
    pub fn negative_count_pair<R: Rng + ?Sized>(
        &self,
        shift: f64,
        first: &mut R,
        second: &mut R,
    ) -> (Option<usize>, Option<usize>) {
        let mut p = guard(self.diagonal(first) + shift);
        let mut q = guard(self.diagonal(second) + shift);
        let mut negative = (usize::from(p < 0.0), usize::from(q < 0.0));
        for k in 2..=self.dimension() {
            let b2_p = self.offdiagonal_squared(k - 1, first);
            let b2_q = self.offdiagonal_squared(k - 1, second);
            p = guard(self.diagonal(first) + shift - b2_p / p);
            q = guard(self.diagonal(second) + shift - b2_q / q);
            negative.0 += usize::from(p < 0.0);
            negative.1 += usize::from(q < 0.0);
        }
        (
            p.is_finite().then_some(negative.0),
            q.is_finite().then_some(negative.1),
        )
    }

    /// Whether a freshly drawn `T + shift·I` is positive definite. Stops at the first
    /// negative pivot and draws entries only up to there, so its expected cost does not grow
    /// with n (each pivot is negative with probability bounded away from 0).
    pub fn is_positive_definite<R: Rng + ?Sized>(&self, shift: f64, rng: &mut R) -> bool {
        let mut pivot = guard(self.diagonal(rng) + shift);
        if pivot < 0.0 {
            return false;
        }
        for k in 2..=self.dimension() {
            let b2 = self.offdiagonal_squared(k - 1, rng);
            pivot = guard(self.diagonal(rng) + shift - b2 / pivot);
            if pivot < 0.0 {
                return false;
            }
        }
        true
    }
}

/// Replaces a pivot of magnitude at most [`PIVOT_MIN`] by `−PIVOT_MIN` (LAPACK `dlaebz`).
#[inline]
fn guard(pivot: f64) -> f64 {
    if pivot.abs() <= PIVOT_MIN {
        -PIVOT_MIN
    } else {
        pivot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::DenseWigner;
    use crate::mc::chunk_stream;
    use crate::stats::chi_square_homogeneity;

    #[test]
    fn dense_and_tridiagonal_agree_in_law() {
        let mut rng = chunk_stream(5, "test", 0, 0);
        for n in [2usize, 3, 5, 8] {
            let samples = 40_000;
            let tridiagonal = TridiagonalEnsemble::goe(n);
            let mut dense = DenseWigner::goe(n);
            let (mut a, mut b) = (vec![0u64; n + 1], vec![0u64; n + 1]);
            for _ in 0..samples {
                a[tridiagonal.inertia(0.0, &mut rng).unwrap().negative] += 1;
                b[dense.sample_index(&mut rng).unwrap()] += 1;
            }
            // Level 1e-6: a false alarm once in a million seeds.
            let test = chi_square_homogeneity(&a, &b).unwrap();
            assert!(
                test.p_value > 1e-6,
                "n = {n}: X² = {}, p = {}",
                test.statistic,
                test.p_value
            );
        }
    }

    #[test]
    fn early_stop_agrees_with_full_count() {
        let ensemble = TridiagonalEnsemble::goe(6);
        for chunk in 0..200 {
            // Same stream, so the same entries up to the first negative pivot.
            let full = ensemble
                .inertia(0.3, &mut chunk_stream(6, "t", 0, chunk))
                .unwrap();
            let early = ensemble.is_positive_definite(0.3, &mut chunk_stream(6, "t", 0, chunk));
            assert_eq!(full.negative == 0, early);
        }
    }

    #[test]
    fn shift_moves_the_spectrum() {
        let mut rng = chunk_stream(7, "test", 0, 0);
        let ensemble = TridiagonalEnsemble::goe(10);
        // The GOE spectrum lies within ±√(2n) ≈ ±4.5 (semicircle edge) up to small tails.
        assert_eq!(ensemble.inertia(50.0, &mut rng).unwrap().negative, 0);
        assert_eq!(ensemble.inertia(-50.0, &mut rng).unwrap().negative, 10);
    }

    #[test]
    fn chi_square_sampler_follows_its_law() {
        use crate::stats::kolmogorov_smirnov;
        use statrs::distribution::{ChiSquared, ContinuousCDF};
        let mut rng = chunk_stream(8, "test", 0, 0);
        for dof in [1usize, 2, 3, 10, 99] {
            let sampler = ScaledChiSquared::new(dof, 0.5);
            let samples: Vec<f64> = (0..20_000).map(|_| sampler.sample(&mut rng)).collect();
            let law = ChiSquared::new(dof as f64).unwrap();
            // KS at level 1e-6 against the CDF of 0.5·χ²_ν.
            let test = kolmogorov_smirnov(&samples, |x| law.cdf(2.0 * x)).unwrap();
            assert!(test.p_value > 1e-6, "dof {dof}: p = {}", test.p_value);
        }
    }

    #[test]
    fn zero_pivot_counts_as_negative() {
        assert_eq!(guard(0.0), -PIVOT_MIN);
        assert_eq!(guard(-0.0), -PIVOT_MIN);
        assert_eq!(guard(1e-310), -PIVOT_MIN);
        assert_eq!(guard(2.0), 2.0);
    }
}
