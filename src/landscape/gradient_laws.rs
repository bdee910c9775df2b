//! Laws of a random gradient `g ∈ ℝⁿ` written as functions of a standard Gaussian latent
//! vector ξ (claim C3): the form the splitting estimator [`super::BoxSplitting`] moves in,
//! since a preconditioned Crank–Nicolson move on ξ leaves N(0, I) invariant whatever the map
//! ξ ↦ g.

/// A gradient law `g = G(ξ)`, `ξ ~ N(0, I_L)`.
///
/// `update` lets a law bring `g` up to date after a few latent coordinates changed in time
/// proportional to what they touch, instead of a full evaluation; the estimator evaluates
/// in full at every stage, so incremental rounding does not accumulate.
pub trait GradientLaw: Sync {
    /// Buffers one evaluation needs (e.g. a network's activations); one per worker.
    type Scratch: Send;

    /// Fresh buffers.
    fn scratch(&self) -> Self::Scratch;

    /// Number of gradient components n.
    fn dimension(&self) -> usize;

    /// Number of latent coordinates L.
    fn latent_len(&self) -> usize;

    /// Writes `G(latent)` to `gradient`.
    fn gradient(&self, latent: &[f64], gradient: &mut [f64], scratch: &mut Self::Scratch);

    /// The one gradient component that latent coordinate `j` moves, or `None` if it can
    /// move several (the default). The estimator then checks and restores only that
    /// component after a move, in O(1) instead of O(n).
    fn component_of(&self, j: usize) -> Option<usize> {
        let _ = j;
        None
    }

    /// Brings `gradient` (which was `G` of the latent before the change) up to date after
    /// the coordinates `changed` took their current values in `latent`; `old` holds their
    /// previous values in the same order. The default evaluates in full.
    fn update(
        &self,
        latent: &[f64],
        changed: &[usize],
        old: &[f64],
        gradient: &mut [f64],
        scratch: &mut Self::Scratch,
    ) {
        let _ = (changed, old);
        self.gradient(latent, gradient, scratch);
    }
}

/// Independent standard Gaussian components, `g = ξ`: the essay's model, where
/// `P(|gᵢ| < τ ∀i) = pⁿ` exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndependentGradient {
    /// Number of components.
    pub n: usize,
}

impl GradientLaw for IndependentGradient {
    type Scratch = ();
    fn scratch(&self) {}
    fn dimension(&self) -> usize {
        self.n
    }
    fn latent_len(&self) -> usize {
        self.n
    }
    fn gradient(&self, latent: &[f64], gradient: &mut [f64], _: &mut ()) {
        gradient.copy_from_slice(latent);
    }
    fn component_of(&self, j: usize) -> Option<usize> {
        Some(j)
    }
    fn update(&self, latent: &[f64], changed: &[usize], _: &[f64], g: &mut [f64], _: &mut ()) {
        for &j in changed {
            g[j] = latent[j];
        }
    }
}

/// Equicorrelated standard Gaussian components `gᵢ = √ρ·w + √(1 − ρ)·zᵢ`, latent
/// `(w, z₁, …, zₙ)`: every pair has correlation ρ (exact box probability:
/// [`super::ln_box_equicorrelated`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EquicorrelatedGradient {
    /// Number of components.
    pub n: usize,
    /// Pairwise correlation, in [0, 1).
    pub rho: f64,
}

impl GradientLaw for EquicorrelatedGradient {
    type Scratch = ();
    fn scratch(&self) {}
    fn dimension(&self) -> usize {
        self.n
    }
    fn latent_len(&self) -> usize {
        self.n + 1
    }
    fn gradient(&self, latent: &[f64], gradient: &mut [f64], _: &mut ()) {
        let shared = self.rho.sqrt() * latent[0];
        let own = (1.0 - self.rho).sqrt();
        for (g, z) in gradient.iter_mut().zip(&latent[1..]) {
            *g = shared + own * z;
        }
    }
    fn component_of(&self, j: usize) -> Option<usize> {
        j.checked_sub(1)
    }
    fn update(&self, latent: &[f64], changed: &[usize], _: &[f64], g: &mut [f64], s: &mut ()) {
        if changed.contains(&0) {
            return self.gradient(latent, g, s);
        }
        let shared = self.rho.sqrt() * latent[0];
        let own = (1.0 - self.rho).sqrt();
        for &j in changed {
            g[j - 1] = shared + own * latent[j];
        }
    }
}

/// A Gaussian scale mixture `gᵢ = s·zᵢ` with one shared scale `s² = (u₁² + … + u_M²)/M`,
/// latent `(u₁, …, u_M, z₁, …, zₙ)`: uncorrelated but dependent components (exact box
/// probability: [`super::ln_box_scale_mixture`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleMixtureGradient {
    /// Number of components.
    pub n: usize,
    /// Degrees of freedom M of the shared scale.
    pub m: usize,
}

impl ScaleMixtureGradient {
    fn scale(&self, latent: &[f64]) -> f64 {
        let v: f64 = latent[..self.m].iter().map(|u| u * u).sum();
        (v / self.m as f64).sqrt()
    }
}

impl GradientLaw for ScaleMixtureGradient {
    type Scratch = ();
    fn scratch(&self) {}
    fn dimension(&self) -> usize {
        self.n
    }
    fn latent_len(&self) -> usize {
        self.m + self.n
    }
    fn gradient(&self, latent: &[f64], gradient: &mut [f64], _: &mut ()) {
        let s = self.scale(latent);
        for (g, z) in gradient.iter_mut().zip(&latent[self.m..]) {
            *g = s * z;
        }
    }
    fn component_of(&self, j: usize) -> Option<usize> {
        j.checked_sub(self.m)
    }
    fn update(&self, latent: &[f64], changed: &[usize], _: &[f64], g: &mut [f64], s: &mut ()) {
        if changed.iter().any(|&j| j < self.m) {
            return self.gradient(latent, g, s);
        }
        let scale = self.scale(latent);
        for &j in changed {
            g[j - self.m] = scale * latent[j];
        }
    }
}

/// The gradient of a random-Fourier-feature landscape `f(x) = √(2/K) Σₖ aₖ cos(ωₖ·x + bₖ)`
/// (A. Rahimi & B. Recht, NeurIPS 2007) at a point x, over random landscapes: aₖ ~ N(0, 1),
/// ωₖ ~ N(0, I_n), bₖ uniform on [0, 2π).
///
/// Whatever x, the phases `θₖ = ωₖ·x + bₖ mod 2π` are independent, uniform and independent
/// of ω, so `g = ∇f(x) = Σₖ cₖ ωₖ` with `cₖ = −√(2/K) aₖ sin θₖ`. Latent
/// `(a₁..a_K, u₁..u_K, v₁..v_K, ω₁₁..ω_Kn)`: the uniform angle θₖ is that of the Gaussian
/// point (uₖ, vₖ), so `sin θₖ = vₖ/√(uₖ² + vₖ²)`. As K → ∞ this is the isotropic Gaussian
/// field (g ~ N(0, I), independent components); at finite K, `g | c ~ N(0, ‖c‖² I)`: the
/// shared scale `‖c‖²` (mean 1, variance 3.5/K) couples every component.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureGradient {
    /// Dimension n of x.
    pub n: usize,
    /// Number of features K.
    pub features: usize,
}

impl FeatureGradient {
    /// `K·Var‖c‖²`: with `‖c‖² = (2/K) Σ aₖ² sin²θₖ`, `Var = (4/K)(E a⁴ E sin⁴θ − (E a² E sin²θ)²)
    /// = (4/K)(3·3/8 − 1/4)`.
    pub const SCALE_VARIANCE_TIMES_K: f64 = 4.0 * (3.0 * 3.0 / 8.0 - 0.25);

    /// Latent coordinates per feature before the ω block: a, u, v.
    const HEAD: usize = 3;

    /// `cₖ` from `aₖ`, `uₖ`, `vₖ`.
    fn coefficient(&self, a: f64, u: f64, v: f64) -> f64 {
        let radius = u.hypot(v);
        if radius == 0.0 {
            return 0.0;
        }
        -(2.0 / self.features as f64).sqrt() * a * v / radius
    }

    /// `cₖ` of feature `k`, with the latent values `value(j)`.
    fn coefficient_of(&self, k: usize, value: impl Fn(usize) -> f64) -> f64 {
        let f = self.features;
        self.coefficient(value(k), value(f + k), value(2 * f + k))
    }

    /// The shared scale `‖c‖` of a latent vector.
    pub fn scale(&self, latent: &[f64]) -> f64 {
        (0..self.features)
            .map(|k| self.coefficient_of(k, |j| latent[j]).powi(2))
            .sum::<f64>()
            .sqrt()
    }
}

impl GradientLaw for FeatureGradient {
    type Scratch = ();
    fn scratch(&self) {}
    fn dimension(&self) -> usize {
        self.n
    }
    fn latent_len(&self) -> usize {
        self.features * (self.n + Self::HEAD)
    }
    fn gradient(&self, latent: &[f64], gradient: &mut [f64], _: &mut ()) {
        let (k, n) = (self.features, self.n);
        let head = Self::HEAD * k;
        gradient.fill(0.0);
        for feature in 0..k {
            let c = self.coefficient_of(feature, |j| latent[j]);
            let omega = &latent[head + feature * n..head + (feature + 1) * n];
            for (g, w) in gradient.iter_mut().zip(omega) {
                *g += c * w;
            }
        }
    }
    fn component_of(&self, j: usize) -> Option<usize> {
        j.checked_sub(Self::HEAD * self.features)
            .map(|w| w % self.n)
    }
    fn update(&self, latent: &[f64], changed: &[usize], old: &[f64], g: &mut [f64], _: &mut ()) {
        let (k, n) = (self.features, self.n);
        let head = Self::HEAD * k;
        let previous = |j: usize| {
            changed
                .iter()
                .position(|&c| c == j)
                .map_or(latent[j], |at| old[at])
        };
        for (at, (&j, &before)) in changed.iter().zip(old).enumerate() {
            if j < head {
                // aₖ, uₖ or vₖ changed: cₖ moves the whole of ωₖ (once per feature).
                let feature = j % k;
                if changed[..at].iter().any(|&c| c < head && c % k == feature) {
                    continue;
                }
                let delta = self.coefficient_of(feature, |i| latent[i])
                    - self.coefficient_of(feature, previous);
                let omega = &latent[head + feature * n..head + (feature + 1) * n];
                for (gi, w) in g.iter_mut().zip(omega) {
                    *gi += delta * w;
                }
            } else {
                // ω_{k,i} changed: only gᵢ moves, by the *old* cₖ if cₖ changed too (the
                // cₖ update above used the new ω).
                let (feature, i) = ((j - head) / n, (j - head) % n);
                g[i] += self.coefficient_of(feature, previous) * (latent[j] - before);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::StreamRng;
    use rand::{RngExt, SeedableRng};
    use rand_distr::StandardNormal;

    /// Changing random coordinates one or a few at a time and updating must agree with a
    /// full evaluation (to rounding).
    fn check_updates<L: GradientLaw>(law: &L) {
        let mut rng = StreamRng::seed_from_u64(3);
        let mut scratch = law.scratch();
        let mut latent: Vec<f64> = (0..law.latent_len())
            .map(|_| rng.sample(StandardNormal))
            .collect();
        let mut g = vec![0.0; law.dimension()];
        law.gradient(&latent, &mut g, &mut scratch);
        let mut full = g.clone();
        for _ in 0..200 {
            let count = 1 + rng.random_range(0..3usize);
            let mut changed: Vec<usize> = (0..count)
                .map(|_| rng.random_range(0..law.latent_len()))
                .collect();
            changed.sort_unstable();
            changed.dedup();
            let old: Vec<f64> = changed.iter().map(|&j| latent[j]).collect();
            for &j in &changed {
                latent[j] = rng.sample(StandardNormal);
            }
            law.update(&latent, &changed, &old, &mut g, &mut scratch);
            law.gradient(&latent, &mut full, &mut scratch);
            for (a, b) in g.iter().zip(&full) {
                assert!((a - b).abs() < 1e-10, "{a} {b}");
            }
        }
    }

    #[test]
    fn incremental_updates_match_full_evaluations() {
        check_updates(&IndependentGradient { n: 7 });
        check_updates(&EquicorrelatedGradient { n: 7, rho: 0.3 });
        check_updates(&ScaleMixtureGradient { n: 7, m: 4 });
        check_updates(&FeatureGradient { n: 5, features: 6 });
    }

    /// Sample covariances against the stated laws: unit variances, correlation ρ for the
    /// equicorrelated law and 0 for the others; the shared scale shows in the correlation
    /// of squares, `Corr(g₁², g₂²) = Var(s²)/(3E s⁴ − (E s²)²) = (2/M)/(2 + 6/M)` for the
    /// scale mixture. 2·10⁵ draws; tolerances are 5 standard errors: √(Var(g²)/N) = 0.0032
    /// for a Gaussian variance (Var g² = 2) and 0.0042 for the mixture (3E s⁴ − 1 = 3.5 at
    /// M = 4), √(E g₁²g₂²/N) ≤ 0.0027 for a covariance, and ≈ 0.01 (delta method on the
    /// eighth moments) for the correlation of squares.
    #[test]
    fn second_moments_are_those_stated() {
        fn moments<L: GradientLaw>(law: &L) -> (f64, f64, f64) {
            let mut rng = StreamRng::seed_from_u64(5);
            let mut latent = vec![0.0; law.latent_len()];
            let mut g = vec![0.0; law.dimension()];
            let draws = 200_000;
            let (mut var, mut cov, mut sq) = (0.0, 0.0, [0.0; 3]);
            for _ in 0..draws {
                for x in latent.iter_mut() {
                    *x = rng.sample(StandardNormal);
                }
                law.gradient(&latent, &mut g, &mut law.scratch());
                var += g[0] * g[0];
                cov += g[0] * g[1];
                sq[0] += g[0].powi(2) * g[1].powi(2);
                sq[1] += g[0].powi(4);
                sq[2] += g[0].powi(2);
            }
            let d = draws as f64;
            let (e4, e2) = (sq[1] / d, sq[2] / d);
            let square_corr = (sq[0] / d - e2 * e2) / (e4 - e2 * e2);
            (var / d, cov / d, square_corr)
        }
        let (v, c, _) = moments(&EquicorrelatedGradient { n: 3, rho: 0.4 });
        assert!(
            (v - 1.0).abs() < 0.016 && (c - 0.4).abs() < 0.014,
            "{v} {c}"
        );
        let m = 4.0;
        let (v, c, q) = moments(&ScaleMixtureGradient { n: 3, m: 4 });
        let expected = (2.0 / m) / (2.0 + 6.0 / m);
        assert!((v - 1.0).abs() < 0.021 && c.abs() < 0.014, "{v} {c}");
        assert!((q - expected).abs() < 0.05, "{q} {expected}");
        let (v, c, _) = moments(&FeatureGradient { n: 3, features: 50 });
        assert!((v - 1.0).abs() < 0.016 && c.abs() < 0.014, "{v} {c}");
    }
}
