//! Double-well landscapes for claim C5: a minimum you leave only against the gradient.

use super::Objective;

/// `U(x) = x₁⁴/4 − x₁²/2 + t·x₁ + Σ_{j≥2} x_j²/2`: two wells along x₁ (tilted by t), harmonic
/// in the other d − 1 directions, so escape is governed by x₁ alone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoubleWell {
    dimension: usize,
    tilt: f64,
}

impl DoubleWell {
    /// A double well in `dimension ≥ 1` dimensions with tilt `|t| < 2/(3√3)` (three critical
    /// points along x₁).
    pub fn new(dimension: usize, tilt: f64) -> Self {
        DoubleWell { dimension, tilt }
    }

    /// The one-dimensional potential along x₁.
    pub fn potential(&self, x: f64) -> f64 {
        x.powi(4) / 4.0 - x * x / 2.0 + self.tilt * x
    }

    /// `U'(x) = x³ − x + t`.
    pub fn slope(&self, x: f64) -> f64 {
        x * x * x - x + self.tilt
    }

    /// `U''(x) = 3x² − 1`.
    pub fn curvature(&self, x: f64) -> f64 {
        3.0 * x * x - 1.0
    }

    /// The critical points along x₁: (left minimum, barrier top, right minimum), the roots of
    /// `x³ − x + t`, by Newton's method from −1, 0 and 1.
    pub fn critical_points(&self) -> (f64, f64, f64) {
        let newton = |mut x: f64| {
            for _ in 0..100 {
                x -= self.slope(x) / self.curvature(x);
            }
            x
        };
        (newton(-1.0), newton(0.0), newton(1.0))
    }
}

impl Objective for DoubleWell {
    fn dimension(&self) -> usize {
        self.dimension
    }

    fn value(&self, x: &[f64]) -> f64 {
        self.potential(x[0]) + x[1..].iter().map(|v| v * v / 2.0).sum::<f64>()
    }

    fn gradient(&self, x: &[f64], out: &mut [f64]) {
        out[0] = self.slope(x[0]);
        for (o, v) in out[1..].iter_mut().zip(&x[1..]) {
            *o = *v;
        }
    }
}

/// The exact mean first-passage time (in continuous time) of the overdamped Langevin
/// diffusion `dx = −U'(x)dt + √(2D) dW` from `start` up to `level` (reflecting far to the
/// left): `τ = (1/D) ∫_start^level e^{U(y)/D} ∫_{−∞}^y e^{−U(z)/D} dz dy` (C. W. Gardiner,
/// *Handbook of Stochastic Methods*, §5.2.7). Computed by the trapezoid rule on 40 000
/// points with both exponents referred to the minimum, so nothing overflows for
/// `ΔU/D ≲ 600`.
pub fn mean_first_passage_time(well: &DoubleWell, diffusion: f64, start: f64, level: f64) -> f64 {
    let (minimum, _, _) = well.critical_points();
    let reference = well.potential(minimum);
    // e^{−U/D} is negligible where U − U_min > 40 D; the quartic makes that close.
    let mut left = minimum - 1.0;
    while well.potential(left) - reference < 40.0 * diffusion {
        left -= 0.5;
    }
    let points = 40_000;
    let h = (level - left) / points as f64;
    let mut inner = 0.0;
    let mut outer = 0.0;
    let mut previous_inner_integrand = (-(well.potential(left) - reference) / diffusion).exp();
    let mut previous_outer = 0.0;
    for i in 1..=points {
        let y = left + i as f64 * h;
        let u = well.potential(y) - reference;
        let inner_integrand = (-u / diffusion).exp();
        inner += 0.5 * h * (inner_integrand + previous_inner_integrand);
        previous_inner_integrand = inner_integrand;
        let outer_integrand = if y >= start {
            (u / diffusion).exp() * inner
        } else {
            0.0
        };
        outer += 0.5 * h * (outer_integrand + previous_outer);
        previous_outer = outer_integrand;
    }
    outer / diffusion
}

/// Kramers' escape time `τ = 2π/√(U''(a)|U''(b)|) · e^{ΔU/D}` from the minimum a over the
/// barrier b (H. A. Kramers, *Physica* 7, 284, 1940; Hänggi, Talkner & Borkovec, *Rev. Mod.
/// Phys.* 62, 251, 1990, eq. 4.56b): the mean time to reach the other well; the time to first
/// touch the barrier top is about half of it. Valid for `ΔU/D ≫ 1`, with relative
/// corrections of order `D/ΔU`.
pub fn kramers_time(well: &DoubleWell, diffusion: f64) -> f64 {
    let (a, b, _) = well.critical_points();
    let barrier = well.potential(b) - well.potential(a);
    2.0 * std::f64::consts::PI / (well.curvature(a) * well.curvature(b).abs()).sqrt()
        * (barrier / diffusion).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_points_of_the_symmetric_well() {
        let (a, b, c) = DoubleWell::new(1, 0.0).critical_points();
        assert!((a + 1.0).abs() < 1e-15 && b.abs() < 1e-15 && (c - 1.0).abs() < 1e-15);
    }

    #[test]
    fn exact_time_approaches_kramers_at_low_noise() {
        // τ(a → other well) / τ_Kramers → 1 as D/ΔU → 0, with a first correction of order
        // D/ΔU: check the ratio shrinks towards 1 like that.
        let well = DoubleWell::new(1, 0.0);
        for (beta, allowed) in [(10.0, 0.2), (20.0, 0.1), (40.0, 0.05)] {
            let d = 0.25 / beta;
            let exact = mean_first_passage_time(&well, d, -1.0, 1.0);
            let ratio = exact / kramers_time(&well, d);
            assert!(
                (ratio - 1.0).abs() < allowed,
                "ΔU/D = {beta}: ratio {ratio}"
            );
        }
    }
}
