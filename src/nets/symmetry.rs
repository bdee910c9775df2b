//! The symmetries of a one-hidden-layer network, so that copies of one critical point are
//! recognised: permuting the hidden units leaves the function unchanged, and for an odd
//! activation (tanh) so does flipping the signs of one unit's incoming weights, bias and
//! outgoing weights. Under softmax cross-entropy adding one constant to every output bias
//! changes nothing either (weight decay does not act on biases).

use super::mlp::{Activation, Loss, Mlp};

/// A representative of `theta`'s orbit under the network's symmetries: for tanh each hidden
/// unit's sign is chosen to make its bias non-negative (ties broken by its first non-zero
/// incoming weight), then the units are sorted by (bias, incoming weights) in descending
/// order; under cross-entropy the output biases are centred on their mean. Two parameter
/// vectors of the same function under these symmetries get the same representative.
/// Networks with other than one hidden layer, or with batch normalisation, are returned
/// unchanged (their deeper permutation symmetries and the normalised layers' scale
/// invariance are not handled).
///
/// ```
/// use stuck::nets::{Activation, Loss, Mlp, canonical_form};
/// let net = Mlp::new(&[1, 2, 1], Activation::Tanh, Loss::SquaredError, 0.0);
/// // Layout: W1 (2×1), b1 (2), W2 (1×2), b2 (1).
/// let a = [0.5, -2.0, 1.0, -3.0, 7.0, 4.0, 0.1];
/// // Swap the units and flip the second one's signs: the same function.
/// let b = [2.0, 0.5, 3.0, 1.0, -4.0, 7.0, 0.1];
/// assert_eq!(canonical_form(&net, &a), canonical_form(&net, &b));
/// ```
pub fn canonical_form(net: &Mlp, theta: &[f64]) -> Vec<f64> {
    let layers = net.layers();
    if layers.len() != 2 || net.batch_norm().is_some() {
        return theta.to_vec();
    }
    let (first, second) = (&layers[0], &layers[1]);
    let (inputs, hidden, outputs) = (first.inputs, first.outputs, second.outputs);
    // Unit i: incoming W1[i, k] at weights.start + k·hidden + i, bias b1[i], outgoing
    // W2[c, i] at second.weights.start + i·outputs + c.
    let mut units: Vec<(Vec<f64>, f64, Vec<f64>)> = (0..hidden)
        .map(|i| {
            let incoming = (0..inputs)
                .map(|k| theta[first.weights.start + k * hidden + i])
                .collect();
            let outgoing = theta
                [second.weights.start + i * outputs..second.weights.start + (i + 1) * outputs]
                .to_vec();
            (incoming, theta[first.biases.start + i], outgoing)
        })
        .collect();
    if net.activation() == Activation::Tanh {
        for (incoming, bias, outgoing) in &mut units {
            let lead = if *bias != 0.0 {
                *bias
            } else {
                incoming.iter().copied().find(|w| *w != 0.0).unwrap_or(0.0)
            };
            if lead < 0.0 {
                *bias = -*bias;
                incoming.iter_mut().for_each(|w| *w = -*w);
                outgoing.iter_mut().for_each(|w| *w = -*w);
            }
        }
    }
    units.sort_by(|a, b| {
        b.1.total_cmp(&a.1).then_with(|| {
            b.0.iter()
                .zip(&a.0)
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        })
    });
    let mut canonical = theta.to_vec();
    if matches!(
        net.loss_function(),
        Loss::CrossEntropy | Loss::SoftmaxSquaredError
    ) {
        let biases = &mut canonical[second.biases.clone()];
        let mean = biases.iter().sum::<f64>() / biases.len() as f64;
        biases.iter_mut().for_each(|b| *b -= mean);
    }
    for (i, (incoming, bias, outgoing)) in units.iter().enumerate() {
        for (k, w) in incoming.iter().enumerate() {
            canonical[first.weights.start + k * hidden + i] = *w;
        }
        canonical[first.biases.start + i] = *bias;
        canonical[second.weights.start + i * outputs..second.weights.start + (i + 1) * outputs]
            .copy_from_slice(outgoing);
    }
    canonical
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::chunk_stream;
    use crate::nets::Dataset;

    /// A permutation and sign flips of a tanh network's hidden units, and a shift of every
    /// output bias, leave the cross-entropy unchanged (to rounding) and the canonical form
    /// identical.
    #[test]
    fn symmetric_copies_share_the_canonical_form_and_the_loss() {
        let data = Dataset::iris();
        let net = Mlp::new(&[4, 5, 3], Activation::Tanh, Loss::CrossEntropy, 1e-3);
        let theta = net.initialise(1.0, &mut chunk_stream(1, "sym", 0, 0));
        let (first, second) = (&net.layers()[0], &net.layers()[1]);
        let order = [3, 0, 4, 1, 2];
        let signs = [1.0, -1.0, -1.0, 1.0, -1.0];
        let mut copy = theta.clone();
        for (new, &old) in order.iter().enumerate() {
            let s = signs[new];
            for k in 0..4 {
                copy[first.weights.start + k * 5 + new] =
                    s * theta[first.weights.start + k * 5 + old];
            }
            copy[first.biases.start + new] = s * theta[first.biases.start + old];
            for c in 0..3 {
                copy[second.weights.start + new * 3 + c] =
                    s * theta[second.weights.start + old * 3 + c];
            }
        }
        let mut ws = net.workspace(data.examples());
        let (a, b) = (
            net.loss(&theta, &data, &mut ws),
            net.loss(&copy, &data, &mut ws),
        );
        assert!((a - b).abs() < 1e-14, "{a} vs {b}");
        assert_ne!(theta, copy);
        for b in &mut copy[second.biases.clone()] {
            *b += 0.7;
        }
        assert!((net.loss(&copy, &data, &mut ws) - a).abs() < 1e-14);
        // Equal up to the rounding of the bias shift (0.7 − 0.7 + …).
        let (x, y) = (canonical_form(&net, &theta), canonical_form(&net, &copy));
        assert!(
            x.iter().zip(&y).all(|(a, b)| (a - b).abs() < 1e-15),
            "{x:?}\n{y:?}"
        );
    }
}
