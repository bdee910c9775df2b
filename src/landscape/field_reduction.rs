//! The fraction of minima among the critical points of an isotropic Gaussian field, reduced
//! exactly to one eigenvalue of a GOE matrix of dimension n + 1.
//!
//! At a critical point of an isotropic Gaussian field on ℝⁿ (in the normalisation of Cheng &
//! Schwartzman, arXiv:1511.06835) the Hessian is `H = W + zI` with `W` a GOE matrix (diagonal
//! N(0, 2), off-diagonal N(0, 1), eigenvalue density `∝ |Δ(λ)| e^{−Σλ²/4}`) and an independent
//! `z ~ N(0, 1)`, and the Kac–Rice formula weights each draw by `|det H|`, so
//!
//! `P(min) = E[|det(W + zI)| 1{W + zI > 0}] / E[|det(W + zI)|]`.
//!
//! With `x = −z`, `|det(W − x)| |Δ(λ)| = |Δ(λ, x)|` is the Vandermonde of n + 1 points and
//! `e^{−Σλ²/4} = e^{x²/4} e^{−(Σλ² + x²)/4}`: the inner expectation over `W` is, up to a
//! constant that cancels in the ratio, `e^{x²/4}` times the density at `x` of the smallest
//! eigenvalue of a GOE matrix `M` of dimension n + 1 (numerator) or of all its eigenvalues
//! (denominator) — Fyodorov, *Phys. Rev. Lett.* 92, 240601 (2004),
//! doi:10.1103/PhysRevLett.92.240601; Auffinger, Ben Arous & Černý, *Comm. Pure Appl. Math.*
//! 66, 165 (2013), doi:10.1002/cpa.21422, Lemma 3.3. Averaging over `z`,
//! `φ(z) e^{z²/4} ∝ e^{−z²/4}`, so
//!
//! `P(min) = E[g(λ_min(M))] / E[Σᵢ g(λᵢ(M))]`, `g(x) = e^{−x²/4}`.
//!
//! Both weights are bounded (`g ≤ 1`), so their sample means have finite variance and honest
//! delta-method errors, unlike importance weights `|det H|` near the spectral edge. The
//! denominator is itself estimated without computing all eigenvalues:
//! `Σᵢ g(λᵢ) = ∫₀^∞ |g′(r)| #{i : |λᵢ| < r} dr` and `|g′(r)| = (r/2) e^{−r²/4}` is the density of
//! a Rayleigh variable of scale √2, so `#{i : |λᵢ| < R}` with `R = 2√(−ln U)` is an unbiased
//! estimate that costs two Sturm counts. As n grows, `λ_min(M) ≈ −2√(n+1)` (the semicircle
//! edge, with Tracy–Widom fluctuations of order n^{−1/6}), so `ln P(min) = −n + O(√n)`: a
//! rate of −1 per dimension, not the article's ln ½, and no n² term.

use rand::{Rng, RngExt};

use super::tridiagonal::TridiagonalEnsemble;
use super::wall_splitting::{count_below, lowest_eigenvalue};

/// One draw of the reduced estimator: the two weights whose means give `P(min)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReducedSample {
    /// `ln g(λ_min) = −λ_min²/4`: the numerator weight, as a logarithm.
    pub ln_minimum_weight: f64,
    /// `#{i : |λᵢ| < R}`, `R` Rayleigh: an unbiased draw of the denominator `Σᵢ g(λᵢ)`.
    pub critical_weight: f64,
}

/// Samples GOE matrices of dimension n + 1 (Dumitriu–Edelman tridiagonal model) and returns
/// the weights of the reduction; buffers are reused, so a draw allocates nothing.
///
/// ```
/// use stuck::landscape::FieldReduction;
/// use stuck::mc::chunk_stream;
/// let mut field = FieldReduction::new(1);
/// let mut rng = chunk_stream(1, "doc", 0, 0);
/// let (mut num, mut den) = (0.0, 0.0);
/// for _ in 0..20_000 {
///     let s = field.sample(&mut rng).unwrap();
///     num += s.ln_minimum_weight.exp();
///     den += s.critical_weight;
/// }
/// // In one dimension half of the critical points are minima.
/// assert!((num / den - 0.5).abs() < 0.03);
/// ```
#[derive(Debug, Clone)]
pub struct FieldReduction {
    goe: TridiagonalEnsemble,
    diagonal: Vec<f64>,
    offdiagonal_squared: Vec<f64>,
}

impl FieldReduction {
    /// The reduction for a field on ℝⁿ (a GOE of dimension `n + 1`).
    pub fn new(n: usize) -> Self {
        // The same scale as `W` (diagonal N(0, 2), off-diagonal N(0, 1)), one dimension more.
        let goe = TridiagonalEnsemble::gaussian_field(n + 1);
        Self {
            goe,
            diagonal: vec![0.0; n + 1],
            offdiagonal_squared: vec![0.0; n],
        }
    }

    /// One draw; `None` if the matrix is not finite (counted as a divergence by callers).
    pub fn sample<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<ReducedSample> {
        self.goe
            .draw_into(&mut self.diagonal, &mut self.offdiagonal_squared, rng);
        let lowest = lowest_eigenvalue(&self.diagonal, &self.offdiagonal_squared);
        let u: f64 = rng.random();
        let radius = 2.0 * (-(1.0 - u).ln()).sqrt();
        let inside = count_below(&self.diagonal, &self.offdiagonal_squared, radius)
            - count_below(&self.diagonal, &self.offdiagonal_squared, -radius);
        lowest.is_finite().then_some(ReducedSample {
            ln_minimum_weight: -0.25 * lowest * lowest,
            critical_weight: inside as f64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::TridiagonalEnsemble;
    use crate::mc::chunk_stream;
    use rand_distr::StandardNormal;

    /// The reduction against the definition, `E[|det(W+zI)| 1{W+zI>0}] / E[|det(W+zI)|]`
    /// sampled directly, in n = 3 where minima are common (both ratios of sample means;
    /// tolerance 5 combined delta-method standard errors).
    #[test]
    fn reduction_agrees_with_direct_kac_rice_weights() {
        let n = 3;
        let samples = 400_000;
        let mut rng = chunk_stream(11, "reduction-test", n as u64, 0);
        let mut reduced = FieldReduction::new(n);
        let (mut a, mut a2, mut b, mut b2, mut ab) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for _ in 0..samples {
            let s = reduced.sample(&mut rng).unwrap();
            let (x, y) = (s.ln_minimum_weight.exp(), s.critical_weight);
            (a, a2, b, b2, ab) = (a + x, a2 + x * x, b + y, b2 + y * y, ab + x * y);
        }
        let field = TridiagonalEnsemble::gaussian_field(n);
        let (mut c, mut c2, mut d, mut d2, mut cd) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for _ in 0..samples {
            let z: f64 = rng.sample(StandardNormal);
            let i = field.inertia(z, &mut rng).unwrap();
            let w = i.ln_abs_det.exp();
            let x = if i.negative == 0 { w } else { 0.0 };
            (c, c2, d, d2, cd) = (c + x, c2 + x * x, d + w, d2 + w * w, cd + x * w);
        }
        let m = samples as f64;
        // Var(ln(X̄/Ȳ)) ≈ [E X²/E²X + E Y²/E²Y − 2 E XY/(E X E Y)]/m.
        let ln_ratio_var = |x: f64, x2: f64, y: f64, y2: f64, xy: f64| {
            let (mx, my) = (x / m, y / m);
            ((x2 / m) / (mx * mx) + (y2 / m) / (my * my) - 2.0 * (xy / m) / (mx * my)) / m
        };
        let reduced_ln = (a / b).ln();
        let direct_ln = (c / d).ln();
        let se = (ln_ratio_var(a, a2, b, b2, ab) + ln_ratio_var(c, c2, d, d2, cd)).sqrt();
        assert!(
            (reduced_ln - direct_ln).abs() < 5.0 * se,
            "reduced {reduced_ln} direct {direct_ln} se {se}"
        );
    }

    /// The denominator's Rayleigh estimate against `Σ g(λᵢ)` from the bisected eigenvalues of
    /// a fixed matrix: the Monte Carlo mean over R is within 5 standard errors.
    #[test]
    fn rayleigh_count_is_unbiased_for_the_sum_of_weights() {
        let diagonal = [0.3, -1.2, 2.5, 0.1];
        let offdiagonal_squared = [0.5, 1.1, 0.2];
        // Eigenvalues by bisection on counts.
        let eigen: Vec<f64> = (1..=4)
            .map(|k| {
                let (mut lo, mut hi) = (-10.0, 10.0);
                for _ in 0..200 {
                    let mid: f64 = 0.5 * (lo + hi);
                    if count_below(&diagonal, &offdiagonal_squared, mid) >= k {
                        hi = mid
                    } else {
                        lo = mid
                    }
                }
                lo
            })
            .collect();
        let exact: f64 = eigen.iter().map(|l| (-l * l / 4.0).exp()).sum();
        let mut rng = chunk_stream(3, "rayleigh-test", 0, 0);
        let m = 200_000;
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..m {
            let u: f64 = rng.random();
            let r = 2.0 * (-(1.0 - u).ln()).sqrt();
            let c = (count_below(&diagonal, &offdiagonal_squared, r)
                - count_below(&diagonal, &offdiagonal_squared, -r)) as f64;
            s += c;
            s2 += c * c;
        }
        let mean = s / m as f64;
        let se = ((s2 / m as f64 - mean * mean) / m as f64).sqrt();
        assert!(
            (mean - exact).abs() < 5.0 * se,
            "{mean} vs {exact} (se {se})"
        );
    }
}
