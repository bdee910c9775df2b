//! What an optimizer needs from a landscape: a value and an exact gradient, and for
//! finite-sum losses the gradient of a minibatch.

/// A differentiable loss `f: ℝᵈ → ℝ` with an exact gradient.
///
/// Implementations must not allocate in [`gradient`](Objective::gradient): it is called once
/// per optimizer step.
pub trait Objective {
    /// The dimension d.
    fn dimension(&self) -> usize;

    /// `f(x)`.
    fn value(&self, x: &[f64]) -> f64;

    /// Writes `∇f(x)` into `out`.
    fn gradient(&self, x: &[f64], out: &mut [f64]);

    /// Number of examples m when `f = (1/m) Σᵢ fᵢ` is an average over a finite data set;
    /// 0 for a loss that is not (then minibatch SGD is plain GD).
    fn examples(&self) -> usize {
        0
    }

    /// Writes the gradient of `(1/|B|) Σ_{i∈B} fᵢ(x)` into `out`. The default, for losses that
    /// are not finite sums, is the full gradient.
    fn batch_gradient(&self, x: &[f64], _batch: &[usize], out: &mut [f64]) {
        self.gradient(x, out);
    }
}
