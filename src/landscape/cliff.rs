//! A cliff for claim C9's clipping remedy: the one-unit recurrent network of R. Pascanu,
//! T. Mikolov & Y. Bengio, "On the difficulty of training recurrent neural networks", ICML
//! 2013, §3: `x_t = w·σ(x_{t−1}) + b` for t = 1…T from a fixed `x₀`, loss `(x_T − y)²` on the
//! last state. Where the map `x ↦ wσ(x) + b` is bistable (`w > 4` for the logistic σ), a small
//! change of b moves `x_T` from one attractor to the other: the loss surface has walls whose
//! gradient grows like `(wσ')^T`, and one gradient step off such a wall throws the parameters
//! far away.

use super::Objective;

/// The one-unit recurrent network with parameters `(w, b)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecurrentCliff {
    /// Initial state x₀.
    pub start: f64,
    /// Time steps T.
    pub steps: usize,
    /// Target y for `x_T`.
    pub target: f64,
}

fn logistic(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

impl RecurrentCliff {
    /// `(x_T, ∂x_T/∂w, ∂x_T/∂b)` by forward-mode differentiation through the T steps:
    /// `∂x_t/∂θ = ∂(wσ + b)/∂θ + w σ'(x_{t−1}) ∂x_{t−1}/∂θ`, no storage of the trajectory.
    ///
    /// ```
    /// use stuck::landscape::RecurrentCliff;
    /// let net = RecurrentCliff { start: 0.5, steps: 1, target: 0.7 };
    /// let (x, dw, db) = net.final_state(2.0, -1.0);
    /// let s = 1.0 / (1.0 + (-0.5f64).exp());
    /// assert!((x - (2.0 * s - 1.0)).abs() < 1e-15 && (dw - s).abs() < 1e-15 && db == 1.0);
    /// ```
    pub fn final_state(&self, w: f64, b: f64) -> (f64, f64, f64) {
        let (mut x, mut dw, mut db) = (self.start, 0.0, 0.0);
        for _ in 0..self.steps {
            let s = logistic(x);
            let slope = w * s * (1.0 - s);
            dw = s + slope * dw;
            db = 1.0 + slope * db;
            x = w * s + b;
        }
        (x, dw, db)
    }

    /// The Gauss–Newton curvature `2‖∇x_T‖²` at `(w, b)`: at a minimum (`x_T = y`) it is the
    /// Hessian's only nonzero eigenvalue, so GD with step η is stable there only when
    /// `η · 2‖∇x_T‖² < 2` — the curvature limit that clipping does not lift.
    pub fn curvature(&self, theta: &[f64]) -> f64 {
        let (_, dw, db) = self.final_state(theta[0], theta[1]);
        2.0 * (dw * dw + db * db)
    }
}

impl Objective for RecurrentCliff {
    fn dimension(&self) -> usize {
        2
    }

    fn value(&self, theta: &[f64]) -> f64 {
        let (x, _, _) = self.final_state(theta[0], theta[1]);
        (x - self.target).powi(2)
    }

    fn gradient(&self, theta: &[f64], out: &mut [f64]) {
        let (x, dw, db) = self.final_state(theta[0], theta[1]);
        let residual = 2.0 * (x - self.target);
        out[0] = residual * dw;
        out[1] = residual * db;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The forward-mode gradient equals central differences (relative 10⁻⁶) at points on both
    /// sides of a wall and on it.
    #[test]
    fn gradient_matches_finite_differences() {
        let net = RecurrentCliff {
            start: 0.5,
            steps: 50,
            target: 0.7,
        };
        for (w, b) in [(2.0, 0.3), (6.0, -3.0), (8.0, -4.2), (5.0, -2.6)] {
            let mut g = [0.0; 2];
            net.gradient(&[w, b], &mut g);
            for (k, gk) in g.iter().enumerate() {
                let h = 1e-6 * (1.0 + gk.abs()).recip();
                let mut plus = [w, b];
                let mut minus = [w, b];
                plus[k] += h;
                minus[k] -= h;
                let numeric = (net.value(&plus) - net.value(&minus)) / (2.0 * h);
                assert!(
                    (numeric - gk).abs() <= 1e-5 * (1.0 + gk.abs()),
                    "({w}, {b}) component {k}: {gk} vs {numeric}"
                );
            }
        }
    }
}
