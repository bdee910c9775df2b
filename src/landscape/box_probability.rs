//! Exact probabilities that every component of a random gradient lies in its box
//! `|gᵢ| < τ` (claim C3), for the gradient laws where a one-dimensional integral gives them:
//! independent, equicorrelated and scale-mixed Gaussian components.
//!
//! These are the references against which the rare-event estimator
//! ([`super::BoxSplitting`]) is validated, and the shapes the real landscapes are compared
//! with.

use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::erf::{erf, erfc};
use statrs::function::gamma::ln_gamma;

use crate::stats::ln_normal_sf;

/// The half-width τ with `P(|Z| < τ) = p` for `Z ~ N(0, 1)`: `τ = Φ⁻¹((1 + p)/2)`.
///
/// ```
/// let tau = stuck::landscape::gaussian_box_threshold(0.1);
/// assert!((tau - 0.125_661_346_855_074).abs() < 1e-12);
/// ```
pub fn gaussian_box_threshold(p: f64) -> f64 {
    Normal::standard().inverse_cdf(0.5 * (1.0 + p))
}

/// `ln P(a < Z < b)` for `Z ~ N(0, 1)` and `a < b`, accurate far in either tail (the
/// difference is taken on the side where both tail masses are small).
fn ln_normal_interval(a: f64, b: f64) -> f64 {
    let ln_diff = |ln_big: f64, ln_small: f64| ln_big + (-(ln_small - ln_big).exp()).ln_1p();
    if a >= 0.0 {
        ln_diff(ln_normal_sf(a), ln_normal_sf(b))
    } else if b <= 0.0 {
        ln_diff(ln_normal_sf(-b), ln_normal_sf(-a))
    } else {
        (-(ln_normal_sf(b).exp() + ln_normal_sf(-a).exp())).ln_1p()
    }
}

/// `ln erf(x)` for `x > 0`, accurate for small x (where erf is linear) and large x (where
/// `ln erf = ln(1 − erfc)`).
fn ln_erf(x: f64) -> f64 {
    if x > 1.0 {
        (-erfc(x)).ln_1p()
    } else {
        erf(x).ln()
    }
}

/// Points of the trapezoidal rule in [`ln_integral`].
const QUADRATURE_POINTS: usize = 20_001;

/// Nats below the peak where [`ln_integral`] truncates the integrand.
const TRUNCATION_NATS: f64 = 60.0;

/// `ln ∫ exp(h(x)) dx` for a unimodal log-integrand `h` whose mode lies in `[lo, hi]`.
///
/// The mode is found by golden-section search, the window is widened from it by doubling
/// until `h` has dropped [`TRUNCATION_NATS`] on each side (the neglected mass is below
/// `e⁻⁶⁰` of the peak's), and the integral is the trapezoidal rule on
/// [`QUADRATURE_POINTS`] points, summed in log space. For the smooth, rapidly decaying
/// integrands here the trapezoidal rule converges geometrically (L. N. Trefethen &
/// J. A. C. Weideman, *SIAM Rev.* 56, 385, 2014); the tests check the result against
/// doubling the points, closed forms and Monte Carlo.
pub fn ln_integral(h: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let golden = 0.5 * (5f64.sqrt() - 1.0);
    let (mut a, mut b) = (lo, hi);
    for _ in 0..200 {
        let c = b - golden * (b - a);
        let d = a + golden * (b - a);
        if h(c) >= h(d) {
            b = d;
        } else {
            a = c;
        }
        if b - a <= 1e-12 * (1.0 + a.abs()) {
            break;
        }
    }
    let mode = 0.5 * (a + b);
    let peak = h(mode);
    let edge = |direction: f64| {
        let mut step = 1e-3 * (1.0 + mode.abs());
        while h(mode + direction * step) > peak - TRUNCATION_NATS && step < 1e6 {
            step *= 2.0;
        }
        mode + direction * step
    };
    let (left, right) = (edge(-1.0), edge(1.0));
    let width = (right - left) / (QUADRATURE_POINTS - 1) as f64;
    let mut sum = 0.0;
    for k in 0..QUADRATURE_POINTS {
        let weight = if k == 0 || k + 1 == QUADRATURE_POINTS {
            0.5
        } else {
            1.0
        };
        sum += weight * (h(left + k as f64 * width) - peak).exp();
    }
    peak + (sum * width).ln()
}

/// `ln P(|gᵢ| < τ for all i ≤ n)` for equicorrelated standard Gaussian components
/// `gᵢ = √ρ·w + √(1 − ρ)·zᵢ` (w, zᵢ independent N(0, 1), correlation ρ ∈ [0, 1)).
///
/// Conditionally on the shared w the components are independent, so
/// `P = ∫ φ(w) q(w)ⁿ dw` with `q(w) = Φ((τ − √ρ w)/√(1−ρ)) − Φ((−τ − √ρ w)/√(1−ρ))`;
/// the log-integrand is concave (φ and q are log-concave), so [`ln_integral`] applies.
/// At ρ = 0 this is `n ln(2Φ(τ) − 1)`.
///
/// ```
/// use stuck::landscape::{gaussian_box_threshold, ln_box_equicorrelated};
/// let tau = gaussian_box_threshold(0.1);
/// assert!((ln_box_equicorrelated(1000, 0.0, tau) - 1000.0 * 0.1f64.ln()).abs() < 1e-8);
/// assert!(ln_box_equicorrelated(1000, 0.1, tau) > 1000.0 * 0.1f64.ln() + 20.0);
/// ```
pub fn ln_box_equicorrelated(n: usize, rho: f64, tau: f64) -> f64 {
    let (shared, own) = (rho.sqrt(), (1.0 - rho).sqrt());
    let ln_q = |w: f64| ln_normal_interval((-tau - shared * w) / own, (tau - shared * w) / own);
    if rho == 0.0 {
        return n as f64 * ln_q(0.0);
    }
    let ln_phi = |w: f64| -0.5 * w * w - 0.5 * (2.0 * std::f64::consts::PI).ln();
    ln_integral(|w| ln_phi(w) + n as f64 * ln_q(w), -40.0, 40.0)
}

/// `ln P(|gᵢ| < τ for all i ≤ n)` for a Gaussian scale mixture `gᵢ = s·zᵢ` with one shared
/// scale `s² = V/M`, `V ~ χ²_M` (so `E gᵢ² = 1`; M → ∞ gives independent components).
///
/// `P = E[erf(τ/(s√2))ⁿ]`, integrated over `u = ln V` where the χ²_M density becomes
/// `exp(M u/2 − eᵘ/2 − (M/2) ln 2 − ln Γ(M/2))`, log-concave in u.
///
/// ```
/// use stuck::landscape::ln_box_scale_mixture;
/// // One component: P(|s z| < τ) grows with τ and tends to 1.
/// assert!(ln_box_scale_mixture(1, 10.0, 0.5) < ln_box_scale_mixture(1, 10.0, 1.0));
/// assert!(ln_box_scale_mixture(1, 10.0, 50.0).abs() < 1e-12);
/// ```
pub fn ln_box_scale_mixture(n: usize, m: f64, tau: f64) -> f64 {
    let half = 0.5 * m;
    let ln_norm = half * 2f64.ln() + ln_gamma(half);
    let scale = tau * m.sqrt() / std::f64::consts::SQRT_2;
    let h =
        |u: f64| half * u - 0.5 * u.exp() - ln_norm + n as f64 * ln_erf(scale * (-0.5 * u).exp());
    ln_integral(h, -400.0, 20.0)
}

/// The τ with `P(|s·z| < τ) = p` for the scale mixture of [`ln_box_scale_mixture`]
/// (bisection on the one-component probability, to 1e-13 relative).
///
/// ```
/// use stuck::landscape::{ln_box_scale_mixture, scale_mixture_threshold};
/// let tau = scale_mixture_threshold(0.3, 5.0);
/// assert!((ln_box_scale_mixture(1, 5.0, tau) - 0.3f64.ln()).abs() < 1e-10);
/// ```
pub fn scale_mixture_threshold(p: f64, m: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 1.0);
    while ln_box_scale_mixture(1, m, hi) < p.ln() {
        hi *= 2.0;
    }
    while hi - lo > 1e-13 * hi {
        let mid = 0.5 * (lo + hi);
        if ln_box_scale_mixture(1, m, mid) < p.ln() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::StreamRng;
    use rand::RngExt;
    use rand::SeedableRng;
    use rand_distr::StandardNormal;

    #[test]
    fn interval_matches_direct_difference_and_survives_the_tails() {
        let normal = Normal::standard();
        for (a, b) in [(-1.0, 0.5), (0.2, 1.3), (-2.0, -0.1), (-0.3, 0.3)] {
            let direct = (normal.cdf(b) - normal.cdf(a)).ln();
            assert!((ln_normal_interval(a, b) - direct).abs() < 1e-13, "{a} {b}");
        }
        // Far tails: P(40 < Z < 40.1) ≈ φ(40)/40 · (1 − e^{−4}) to leading order.
        let far = ln_normal_interval(40.0, 40.1);
        let leading = ln_normal_sf(40.0) + (-(-4.0f64 - 0.005).exp()).ln_1p();
        assert!((far - leading).abs() < 1e-3, "{far} {leading}");
        assert!((ln_normal_interval(-40.1, -40.0) - far).abs() < 1e-12);
    }

    #[test]
    fn quadrature_reproduces_a_gaussian_integral() {
        // ∫ exp(−(x − 3)²/(2·0.01²)) dx = 0.01 √(2π).
        let ln = ln_integral(|x| -0.5 * ((x - 3.0) / 0.01).powi(2), -40.0, 40.0);
        let exact = (0.01 * (2.0 * std::f64::consts::PI).sqrt()).ln();
        assert!((ln - exact).abs() < 1e-12, "{ln} {exact}");
    }

    #[test]
    fn one_component_has_the_marginal_probability() {
        let tau = gaussian_box_threshold(0.3);
        for rho in [0.0, 0.2, 0.9] {
            assert!((ln_box_equicorrelated(1, rho, tau) - 0.3f64.ln()).abs() < 1e-10);
        }
    }

    #[test]
    fn large_m_mixture_tends_to_independence() {
        // The first correction is n²/(4M)·(∂ ln q/∂ ln s)²/2·… : at n = 10, M = 1e6 it is
        // below 1e-4.
        let tau = scale_mixture_threshold(0.1, 1e6);
        let ln = ln_box_scale_mixture(10, 1e6, tau);
        assert!((ln - 10.0 * 0.1f64.ln()).abs() < 1e-3, "{ln}");
    }

    /// Against direct Monte Carlo at n = 3 (P large enough to count): 4·10⁶ draws give a
    /// relative standard error of √((1 − P)/(N P)); the tolerance is 5 of them.
    #[test]
    fn integrals_agree_with_monte_carlo() {
        let mut rng = StreamRng::seed_from_u64(11);
        let draws = 4_000_000;
        let (p, n) = (0.3, 3);
        let tau = gaussian_box_threshold(p);
        let rho: f64 = 0.5;
        let mut hits = 0u64;
        for _ in 0..draws {
            let w: f64 = rng.sample(StandardNormal);
            hits += (0..n).all(|_| {
                let z: f64 = rng.sample(StandardNormal);
                (rho.sqrt() * w + (1.0 - rho).sqrt() * z).abs() < tau
            }) as u64;
        }
        let check = |hits: u64, exact_ln: f64| {
            let estimate = hits as f64 / draws as f64;
            let se = (estimate * (1.0 - estimate) / draws as f64).sqrt();
            let exact = exact_ln.exp();
            assert!(
                (estimate - exact).abs() < 5.0 * se,
                "{estimate} {exact} {se}"
            );
        };
        check(hits, ln_box_equicorrelated(n, rho, tau));

        let m = 3usize;
        let tau = scale_mixture_threshold(p, m as f64);
        let mut hits = 0u64;
        for _ in 0..draws {
            let v: f64 = (0..m)
                .map(|_| rng.sample::<f64, _>(StandardNormal).powi(2))
                .sum();
            let s = (v / m as f64).sqrt();
            hits += (0..n).all(|_| (s * rng.sample::<f64, _>(StandardNormal)).abs() < tau) as u64;
        }
        check(hits, ln_box_scale_mixture(n, m as f64, tau));
    }

    /// Against a brute-force trapezoid with 2·10⁶ points on [−10, 10] (spacing 1e-5, far
    /// below the peak's width at n = 1000 for every ρ here).
    #[test]
    fn quadrature_is_converged_at_n_1000() {
        let tau = gaussian_box_threshold(0.1);
        for rho in [0.01, 0.3, 0.9] {
            let (s, o) = (f64::sqrt(rho), f64::sqrt(1.0 - rho));
            let h = |w: f64| {
                -0.5 * w * w - 0.5 * (2.0 * std::f64::consts::PI).ln()
                    + 1000.0 * ln_normal_interval((-tau - s * w) / o, (tau - s * w) / o)
            };
            let points = 2_000_000;
            let step = 20.0 / points as f64;
            let peak = h(0.0);
            let sum: f64 = (0..=points)
                .map(|k| (h(-10.0 + k as f64 * step) - peak).exp())
                .sum();
            let brute = peak + (sum * step).ln();
            let fast = ln_box_equicorrelated(1000, rho, tau);
            assert!((fast - brute).abs() < 1e-8, "rho {rho}: {fast} {brute}");
        }
    }
}
