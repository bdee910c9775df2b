//! The loss along the straight line between two weight vectors (I. J. Goodfellow, O. Vinyals
//! & A. M. Saxe, "Qualitatively characterizing neural network optimization problems", ICLR
//! 2015): from the initial to the trained weights it typically falls monotonically, with no
//! barrier to cross, even though training itself took a winding path.

use super::data::Dataset;
use super::mlp::Mlp;

/// The loss at `points` evenly spaced `α ∈ [0, 1]` (both ends included) on
/// `θ(α) = (1 − α) from + α to`.
///
/// ```
/// use stuck::nets::{Activation, Dataset, Loss, Mlp, straight_line_losses};
/// let data = Dataset::iris();
/// let net = Mlp::new(&[4, 2, 3], Activation::Tanh, Loss::CrossEntropy, 0.0);
/// let zero = vec![0.0; net.parameters()];
/// let line = straight_line_losses(&net, &data, &zero, &zero, 3);
/// // All-zero weights predict the uniform distribution over 3 classes: loss ln 3.
/// assert!(line.iter().all(|l| (l - 3f64.ln()).abs() < 1e-12));
/// ```
pub fn straight_line_losses(
    net: &Mlp,
    data: &Dataset,
    from: &[f64],
    to: &[f64],
    points: usize,
) -> Vec<f64> {
    let mut ws = net.workspace(data.examples());
    let mut theta = vec![0.0; from.len()];
    (0..points)
        .map(|i| {
            let alpha = if points > 1 {
                i as f64 / (points - 1) as f64
            } else {
                1.0
            };
            for ((t, a), b) in theta.iter_mut().zip(from).zip(to) {
                *t = (1.0 - alpha) * a + alpha * b;
            }
            net.loss(&theta, data, &mut ws)
        })
        .collect()
}

/// The largest rise between neighbouring points of a sampled path, `max(0, max_i L_{i+1} −
/// L_i)`: 0 for a path along which the loss never goes up.
///
/// ```
/// assert_eq!(stuck::nets::largest_rise(&[3.0, 2.0, 2.5, 1.0]), 0.5);
/// ```
pub fn largest_rise(losses: &[f64]) -> f64 {
    losses.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max)
}
