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
