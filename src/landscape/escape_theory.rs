//! Closed forms for escape from a quadratic strict saddle `f = ½xᵀHx` with one negative
//! eigenvalue −γ, radius R, learning rate η (derived here; the AR(1) view follows e.g.
//! Jin et al. 2017, §5).
//!
//! Along the unstable eigenvector GD multiplies the coordinate by `a = 1 + ηγ` per step, so
//! from distance δ it needs exactly `⌈ln(R/δ)/ln a⌉` steps, and from exactly 0 it never
//! moves. With gradient noise of scale σ the coordinate is the AR(1) process
//! `u_{t+1} = a u_t − ησξ_t`, so `u_t ≈ aᵗW` with `W ~ N(0, s²)`, `s = ησ/√(a² − 1)`; escape
//! happens at `T ≈ ln(R/|W|)/ln a`, hence
//!
//! ```text
//! E[T] ≈ [ln(R/s) + (γ_E + ln 2)/2] / ln a + 1/2,    sd(T) ≈ (π/√8) / ln a
//! ```
//!
//! using `E[ln|Z|] = −(γ_E + ln 2)/2` and `Var[ln|Z|] = π²/8` for Z ~ N(0,1); the `+1/2` is
//! the mean rounding up of the first integer step past the crossing. The stable directions
//! are ignored, which holds while `(d − 1)·η²σ²/(1 − (1 − ηλ)²) ≪ R²`.
//!
//! Perturbed GD from the saddle perturbs once (at step 1, the gradient being 0) by a point
//! uniform in the d-ball of radius r; its unstable coordinate is `r·U^{1/d}·Z₁/‖Z‖`, so
//! `E[T] ≈ 1 + [ln(R/r) + 1/d − (ψ(1/2) − ψ(d/2))/2] / ln a + 1/2`
//! (with `E[ln U] = −1` and `E[ln(Z₁²/‖Z‖²)] = ψ(1/2) − ψ(d/2)`).

use statrs::function::gamma::digamma;

use crate::stats::trigamma;

/// Noise-free GD from distance δ along the unstable direction: exact steps.
pub fn gd_steps(learning_rate: f64, gamma: f64, radius: f64, start: f64) -> Option<f64> {
    (start > 0.0).then(|| {
        (((radius / start).ln()) / (1.0 + learning_rate * gamma).ln())
            .ceil()
            .max(0.0)
    })
}

/// Noisy GD from the saddle with `k` unstable directions: (mean, sd) of the escape time.
/// The k unstable coordinates are `aᵗ·W` with `W ~ N(0, s²I_k)`, and
/// `E[ln‖Z‖] = (ln 2 + ψ(k/2))/2`, `Var[ln‖Z‖] = ψ'(k/2)/4` for `Z ~ N(0, I_k)`; k = 1 gives
/// the `(γ_E + ln 2)/2` and `π/√8` of the module documentation.
pub fn noisy_gd_steps(
    learning_rate: f64,
    gamma: f64,
    sigma: f64,
    radius: f64,
    negative: usize,
) -> (f64, f64) {
    let a = 1.0 + learning_rate * gamma;
    let s = learning_rate * sigma / (a * a - 1.0).sqrt();
    let ln_a = a.ln();
    let half_k = negative as f64 / 2.0;
    (
        ((radius / s).ln() - (std::f64::consts::LN_2 + digamma(half_k)) / 2.0) / ln_a + 0.5,
        trigamma(half_k).sqrt() / 2.0 / ln_a,
    )
}

/// Perturbed GD from the saddle with one perturbation of radius r in d dimensions and k
/// unstable directions: mean steps (`E[ln(Σ_{i≤k} Zᵢ²/‖Z‖²)] = ψ(k/2) − ψ(d/2)`).
pub fn perturbed_gd_steps(
    learning_rate: f64,
    gamma: f64,
    radius: f64,
    perturbation: f64,
    dimension: usize,
    negative: usize,
) -> f64 {
    let ln_a = (1.0 + learning_rate * gamma).ln();
    let d = dimension as f64;
    let expected_ln = (radius / perturbation).ln() + 1.0 / d
        - (digamma(negative as f64 / 2.0) - digamma(d / 2.0)) / 2.0;
    1.0 + expected_ln / ln_a + 0.5
}

/// The growth factor per saddle of GD's exit times along a chain, `1 + κ` with
/// `κ = −ln(1 − 2ηL)/ln(1 + 2ηγ)` (Du et al. 2017).
pub fn chain_growth(learning_rate: f64, gamma: f64, stiffness: f64) -> f64 {
    1.0 - (1.0 - 2.0 * learning_rate * stiffness).abs().ln()
        / (1.0 + 2.0 * learning_rate * gamma).ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::QuadraticSaddle;
    use crate::mc::chunk_stream;
    use crate::optim::{Method, Optimizer, OptimizerConfig, Passage, first_passage, norm};
    use crate::stats::MeanVar;

    fn escape_times(
        method: Method,
        eta: f64,
        gamma: f64,
        dimension: usize,
        start: f64,
        runs: usize,
    ) -> MeanVar {
        escape_times_k(method, eta, gamma, dimension, 1, start, runs)
    }

    fn escape_times_k(
        method: Method,
        eta: f64,
        gamma: f64,
        dimension: usize,
        negative: usize,
        start: f64,
        runs: usize,
    ) -> MeanVar {
        let saddle = QuadraticSaddle::new(dimension, negative, gamma, 1.0);
        let mut optimizer = Optimizer::new(
            OptimizerConfig {
                method,
                learning_rate: eta,
                clip: None,
            },
            dimension,
            0,
        );
        let mut rng = chunk_stream(11, "saddle-theory", dimension as u64, 0);
        let mut times = MeanVar::default();
        for _ in 0..runs {
            optimizer.reset();
            let mut x = vec![0.0; dimension];
            x[0] = start;
            match first_passage(
                &mut optimizer,
                &saddle,
                &mut x,
                10_000_000,
                &mut rng,
                crate::mc::Stop::NEVER,
                |x| norm(x) >= 1.0,
            ) {
                Passage::Reached(t) => times.push(t as f64),
                other => panic!("{other:?}"),
            }
        }
        times
    }

    #[test]
    fn gd_from_a_distance_is_exact() {
        for (eta, gamma) in [(0.1, 1.0), (0.01, 0.1), (0.05, 2.0)] {
            let t = escape_times(Method::Gd, eta, gamma, 3, 1e-3, 1);
            assert_eq!(t.mean(), gd_steps(eta, gamma, 1.0, 1e-3).unwrap());
        }
        assert_eq!(gd_steps(0.1, 1.0, 1.0, 0.0), None);
    }

    #[test]
    fn noisy_gd_matches_the_ar1_law() {
        // 4000 runs: 5 standard errors of the mean, plus the formula's own error, which is of
        // order a^{-2T} (the AR(1) sum not yet converged) — below 1e-6 steps here.
        let (eta, gamma, sigma) = (0.01, 1.0, 1e-6);
        let t = escape_times(Method::NoisyGd { sigma }, eta, gamma, 2, 0.0, 4000);
        let (mean, sd) = noisy_gd_steps(eta, gamma, sigma, 1.0, 1);
        assert!(
            (t.mean() - mean).abs() < 5.0 * t.standard_error(),
            "{} ± {} vs {mean}",
            t.mean(),
            t.standard_error()
        );
        // sd: the standard error of a sample sd is sd·√((κ − 1)/(4n)) with κ the kurtosis of
        // T ≈ −ln|Z|/ln a; ln Z² has cumulants κ₂ = π²/2 and κ₄ = π⁴, so κ = 3 + 4 = 7.
        let sd_se = sd * (6.0 / (4.0 * 4000.0f64)).sqrt();
        assert!(
            (t.sample_sd() - sd).abs() < 5.0 * sd_se,
            "{} vs {sd}",
            t.sample_sd()
        );
    }

    #[test]
    fn several_unstable_directions() {
        // k = 3 negative eigenvalues: the chi law of ‖W‖ replaces |Z|.
        let (eta, gamma, sigma) = (0.01, 1.0, 1e-6);
        let t = escape_times_k(Method::NoisyGd { sigma }, eta, gamma, 5, 3, 0.0, 4000);
        let (mean, _) = noisy_gd_steps(eta, gamma, sigma, 1.0, 3);
        assert!(
            (t.mean() - mean).abs() < 5.0 * t.standard_error(),
            "{} ± {} vs {mean}",
            t.mean(),
            t.standard_error()
        );
        let method = Method::Perturbed {
            radius: 1e-3,
            gradient_threshold: 1e-9,
            interval: u64::MAX,
        };
        let t = escape_times_k(method, eta, gamma, 10, 3, 0.0, 4000);
        let mean = perturbed_gd_steps(eta, gamma, 1.0, 1e-3, 10, 3);
        assert!(
            (t.mean() - mean).abs() < 5.0 * t.standard_error(),
            "{} ± {} vs {mean}",
            t.mean(),
            t.standard_error()
        );
        assert!((trigamma(0.5) - std::f64::consts::PI.powi(2) / 2.0).abs() < 1e-10);
    }

    #[test]
    fn perturbed_gd_matches_the_ball_law() {
        let (eta, gamma, r) = (0.01, 1.0, 1e-3);
        for dimension in [2, 20] {
            let method = Method::Perturbed {
                radius: r,
                gradient_threshold: 1e-9,
                interval: u64::MAX,
            };
            let t = escape_times(method, eta, gamma, dimension, 0.0, 4000);
            let mean = perturbed_gd_steps(eta, gamma, 1.0, r, dimension, 1);
            assert!(
                (t.mean() - mean).abs() < 5.0 * t.standard_error(),
                "d = {dimension}: {} ± {} vs {mean}",
                t.mean(),
                t.standard_error()
            );
        }
    }
}
