//! Degenerate terrain for claim C8: losses on which plain GD never arrives.

use super::Objective;

/// A one-dimensional loss along x₁ (harmonic in any further coordinates, which play no role).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DegenerateLoss {
    /// `f'(x) = −c|x − x*|`: f keeps decreasing through `x*`, where the gradient vanishes
    /// linearly from both sides — a degenerate critical point that is not a minimum. From
    /// `x < x*`, GD gives `x* − x_{k+1} = (1 − ηc)(x* − x_k)`: steps shrink geometrically and
    /// the iterate never passes `x*` (with `ηc = 1/2` every step is half the previous one, the
    /// article's walker).
    HalfTrap {
        /// Slope scale c.
        c: f64,
        /// The trap x*.
        trap: f64,
    },
    /// `f = x³/3`, a degenerate saddle at 0: from `x₀ > 0` GD obeys
    /// `1/x_{k+1} = 1/x_k + η/(1 − ηx_k)`, so `x_k ≤ 1/(1/x₀ + ηk)` → 0 like `1/(ηk)`.
    Cubic,
    /// `f = x⁴/4`, a degenerate minimum at 0: GD crawls, `1/x_{k+1}² ≈ 1/x_k² + 2η`, so reaching
    /// ε from 1 takes about `(ε⁻² − 1)/(2η)` steps.
    Quartic,
}

impl DegenerateLoss {
    /// `f'(x)`.
    pub fn slope(&self, x: f64) -> f64 {
        match *self {
            DegenerateLoss::HalfTrap { c, trap } => -c * (x - trap).abs(),
            DegenerateLoss::Cubic => x * x,
            DegenerateLoss::Quartic => x * x * x,
        }
    }

    /// `f(x)`.
    pub fn potential(&self, x: f64) -> f64 {
        match *self {
            DegenerateLoss::HalfTrap { c, trap } => -c * (x - trap) * (x - trap).abs() / 2.0,
            DegenerateLoss::Cubic => x * x * x / 3.0,
            DegenerateLoss::Quartic => x.powi(4) / 4.0,
        }
    }
}

/// A [`DegenerateLoss`] as an [`Objective`] in `dimension` coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DegenerateTerrain {
    /// The loss along x₁.
    pub loss: DegenerateLoss,
    /// Number of coordinates.
    pub dimension: usize,
}

impl Objective for DegenerateTerrain {
    fn dimension(&self) -> usize {
        self.dimension
    }

    fn value(&self, x: &[f64]) -> f64 {
        self.loss.potential(x[0]) + x[1..].iter().map(|v| v * v / 2.0).sum::<f64>()
    }

    fn gradient(&self, x: &[f64], out: &mut [f64]) {
        out[0] = self.loss.slope(x[0]);
        for (o, v) in out[1..].iter_mut().zip(&x[1..]) {
            *o = *v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::chunk_stream;
    use crate::optim::{Method, Optimizer, OptimizerConfig};

    fn gd(eta: f64) -> Optimizer {
        Optimizer::new(
            OptimizerConfig {
                method: Method::Gd,
                learning_rate: eta,
                clip: None,
            },
            1,
            0,
        )
    }

    #[test]
    fn half_trap_halves_every_step() {
        let terrain = DegenerateTerrain {
            loss: DegenerateLoss::HalfTrap { c: 1.0, trap: 1.0 },
            dimension: 1,
        };
        let mut rng = chunk_stream(1, "trap", 0, 0);
        let mut optimizer = gd(0.5);
        let mut x = [0.0];
        for k in 1..=40 {
            optimizer.step(&terrain, &mut x, &mut rng);
            assert_eq!(1.0 - x[0], 0.5f64.powi(k), "step {k}");
        }
        for _ in 0..10_000 {
            optimizer.step(&terrain, &mut x, &mut rng);
            assert!(x[0] <= 1.0, "GD never passes the trap");
        }
    }

    #[test]
    fn cubic_converges_like_one_over_eta_k() {
        let terrain = DegenerateTerrain {
            loss: DegenerateLoss::Cubic,
            dimension: 1,
        };
        let mut rng = chunk_stream(2, "trap", 0, 0);
        let (eta, x0) = (0.1, 1.0);
        let mut optimizer = gd(eta);
        let mut x = [x0];
        for k in 1..=100_000u64 {
            optimizer.step(&terrain, &mut x, &mut rng);
            let bound = 1.0 / (1.0 / x0 + eta * k as f64);
            assert!(x[0] > 0.0 && x[0] <= bound * (1.0 + 1e-12), "k = {k}");
        }
        // 1/x_k = 1/x₀ + ηk + O(ln k): the relative gap to the bound is below 1e-3 here.
        assert!(
            (x[0] * (1.0 / x0 + eta * 1e5) - 1.0).abs() < 1e-3,
            "{}",
            x[0]
        );
    }

    #[test]
    fn quartic_crawls_as_predicted() {
        let terrain = DegenerateTerrain {
            loss: DegenerateLoss::Quartic,
            dimension: 1,
        };
        let mut rng = chunk_stream(3, "trap", 0, 0);
        let (eta, epsilon) = (0.1, 0.01);
        let mut optimizer = gd(eta);
        let mut x = [1.0];
        let mut steps = 0u64;
        while x[0] > epsilon {
            optimizer.step(&terrain, &mut x, &mut rng);
            steps += 1;
        }
        // 1/x² grows by 2η + 3η²x² + …: the prediction (ε⁻² − 1)/(2η) is exact up to
        // (3η/2)·Σx_k² = O(ln(1/ε)) steps, under 1 % of the 50 000 here.
        let predicted = (epsilon.powi(-2) - 1.0) / (2.0 * eta);
        assert!(
            (steps as f64 - predicted).abs() / predicted < 0.01,
            "{steps} vs {predicted}"
        );
    }
}
