//! A plateau for claim C7: a long shelf of small slope between two steep regions.

use super::Objective;

/// Along x₁: slope `−g` on the shelf `[0, W]` and `−G` (steep) outside, joined smoothly,
///
/// ```text
/// f'(x) = −g − (G − g)·[s((−x)/w) + s((x − W)/w)],   s(u) = 1/(1 + e^{−u}),
/// ```
///
/// with edge width w; the other coordinates are harmonic, `½x_j²`. On the shelf the gradient
/// is `−g` up to `e^{−distance/w}`, so GD moves `ηg` per step and crosses in about `W/(ηg)`
/// steps: a plateau, not a minimum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shelf {
    /// Width W.
    pub width: f64,
    /// Shelf slope g.
    pub slope: f64,
    /// Steep slope G outside the shelf.
    pub steep: f64,
    /// Edge width w.
    pub edge: f64,
    /// Number of coordinates.
    pub dimension: usize,
}

fn logistic(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

impl Shelf {
    /// `f'(x)` along x₁.
    pub fn shelf_slope(&self, x: f64) -> f64 {
        -self.slope
            - (self.steep - self.slope)
                * (logistic(-x / self.edge) + logistic((x - self.width) / self.edge))
    }
}

impl Objective for Shelf {
    fn dimension(&self) -> usize {
        self.dimension
    }

    /// `f` up to a constant: the shelf slope integrated from 0 (trapezoid, 200 steps), for
    /// reporting only — optimizers use the exact gradient.
    fn value(&self, x: &[f64]) -> f64 {
        let steps = 200;
        let h = x[0] / steps as f64;
        let along: f64 = (0..steps)
            .map(|i| {
                0.5 * h * (self.shelf_slope(i as f64 * h) + self.shelf_slope((i + 1) as f64 * h))
            })
            .sum();
        along + x[1..].iter().map(|v| v * v / 2.0).sum::<f64>()
    }

    fn gradient(&self, x: &[f64], out: &mut [f64]) {
        out[0] = self.shelf_slope(x[0]);
        for (o, v) in out[1..].iter_mut().zip(&x[1..]) {
            *o = *v;
        }
    }
}

/// Closed forms for crossing the shelf from `x₀` (well inside, edges ignored), in steps:
///
/// - GD and the mean of noisy GD: `(W − x₀)/(ηg)` (constant drift);
/// - heavy ball β: the velocity `v_k = ηg(1 − β^k)/(1 − β)` gives
///   `x_k − x₀ = ηg/(1 − β)·[k − β(1 − β^k)/(1 − β)]`, so about `(W − x₀)(1 − β)/(ηg) + β/(1 − β)`;
/// - Adam: a constant gradient gives `m̂ = g`, `v̂ = g²` exactly, so every step is `η`:
///   `(W − x₀)/η`, independent of g.
pub fn shelf_crossing_steps(
    method: &str,
    distance: f64,
    learning_rate: f64,
    slope: f64,
    beta: f64,
) -> f64 {
    match method {
        "momentum" => distance * (1.0 - beta) / (learning_rate * slope) + beta / (1.0 - beta),
        "adam" => distance / learning_rate,
        _ => distance / (learning_rate * slope),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::chunk_stream;
    use crate::optim::{Method, Optimizer, OptimizerConfig, Passage, first_passage};

    fn cross(method: Method, slope: f64) -> u64 {
        let shelf = Shelf {
            width: 10.0,
            slope,
            steep: 1.0,
            edge: 1e-5,
            dimension: 1,
        };
        let mut optimizer = Optimizer::new(
            OptimizerConfig {
                method,
                learning_rate: 0.01,
                clip: None,
            },
            1,
            0,
        );
        let mut x = [0.5];
        match first_passage(
            &mut optimizer,
            &shelf,
            &mut x,
            100_000_000,
            &mut chunk_stream(1, "shelf", 0, 0),
            crate::mc::Stop::NEVER,
            |x| x[0] >= 10.0,
        ) {
            Passage::Reached(t) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn deterministic_crossings_match_the_closed_forms() {
        // Distance 9.5 with η = 0.01. The steep side is felt within about w·ln(G/g) of the exit,
        // where the optimizer speeds up: the count may fall short of the closed form by that
        // distance over the step length, plus 2 for the first step and the rounding up.
        for slope in [1e-2, 1e-3] {
            for (name, method) in [
                ("gd", Method::Gd),
                ("momentum", Method::Momentum { beta: 0.9 }),
                (
                    "adam",
                    Method::Adam {
                        beta1: 0.9,
                        beta2: 0.999,
                        epsilon: 1e-12,
                    },
                ),
            ] {
                let steps = cross(method, slope) as f64;
                let predicted = shelf_crossing_steps(name, 9.5, 0.01, slope, 0.9);
                let step = match name {
                    "gd" => 0.01 * slope,
                    "momentum" => 0.01 * slope / 0.1,
                    _ => 0.01,
                };
                let allowed = 2.0 + 1e-5 * (1.0 / slope).ln() / step;
                assert!(
                    (steps - predicted).abs() <= allowed,
                    "{name}, g = {slope}: {steps} vs {predicted} (allowed {allowed})"
                );
            }
        }
    }
}
