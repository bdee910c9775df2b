//! The Dumitriu–Edelman tridiagonal model of the GOE and the Sturm (Sylvester inertia) count
//! of its negative eigenvalues in O(n), with entries drawn lazily.

use rand::{Rng, RngExt};
use rand_distr::{ChiSquared, Distribution, StandardNormal};

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
    /// `chi[k − 1]` is the law of `b_k²/s`, χ² with `n − k` degrees of freedom.
    chi: Vec<ChiSquared<f64>>,
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
            .map(|k| ChiSquared::new((n - k) as f64).expect("degrees of freedom are positive"))
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
        self.offdiagonal_scale * self.chi[k - 1].sample(rng)
    }

    #[inline]
    fn diagonal<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.diagonal_sd * rng.sample::<f64, _>(StandardNormal)
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
    fn zero_pivot_counts_as_negative() {
        assert_eq!(guard(0.0), -PIVOT_MIN);
        assert_eq!(guard(-0.0), -PIVOT_MIN);
        assert_eq!(guard(1e-310), -PIVOT_MIN);
        assert_eq!(guard(2.0), 2.0);
    }
}
