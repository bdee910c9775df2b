//! Full-data loss, gradient and Hessian-vector products on fixed chunks of the examples, in
//! parallel, for the audit of one large network (where the engine has no seeds to spread over
//! the cores).
//!
//! The loss is a mean over examples plus an L2 term, so with chunks c of `n_c` examples
//! `L = Σ_c (n_c/N) L_c`, and the same weights combine gradients and Hessian-vector products
//! (each chunk's own L2 term carries weight Σ n_c/N = 1). The chunks are fixed by
//! `examples_per_chunk` alone and summed in chunk order, so the result does not depend on the
//! number of threads. Batch normalisation couples the examples of a batch, so a normalised
//! network is never split.

use rayon::prelude::*;

use super::data::Dataset;
use super::mlp::{Mlp, Workspace};

/// One chunk: its examples, a workspace holding the network's state at the last evaluation,
/// buffers for its results and its weight `n_c/N`.
#[derive(Debug, Clone)]
struct Chunk {
    data: Dataset,
    workspace: Workspace,
    gradient: Vec<f64>,
    product: Vec<f64>,
    weight: f64,
}

/// A network's full-data derivatives, evaluated chunk by chunk in parallel.
///
/// ```
/// use stuck::nets::{Activation, ChunkedEvaluator, Dataset, Loss, Mlp};
/// use stuck::mc::chunk_stream;
/// let data = Dataset::iris();
/// let net = Mlp::new(&[4, 5, 3], Activation::Tanh, Loss::CrossEntropy, 1e-3);
/// let theta = net.initialise(1.0, &mut chunk_stream(1, "doc", 0, 0));
/// let mut whole = ChunkedEvaluator::new(&net, &data, None);
/// let mut split = ChunkedEvaluator::new(&net, &data, Some(40));
/// let (mut g1, mut g2) = (vec![0.0; theta.len()], vec![0.0; theta.len()]);
/// let (l1, l2) = (whole.loss_and_gradient(&net, &theta, &mut g1), split.loss_and_gradient(&net, &theta, &mut g2));
/// assert!((l1 - l2).abs() < 1e-12 && g1.iter().zip(&g2).all(|(a, b)| (a - b).abs() < 1e-12));
/// ```
#[derive(Debug, Clone)]
pub struct ChunkedEvaluator {
    chunks: Vec<Chunk>,
}

impl ChunkedEvaluator {
    /// Splits `data` into consecutive chunks of `examples_per_chunk` examples (the last one
    /// shorter); `None`, a chunk at least as large as the data, or a network with batch
    /// normalisation keep one chunk, which reproduces [`Mlp::loss_and_gradient`] and
    /// [`Mlp::hessian_vector`] bit for bit.
    pub fn new(net: &Mlp, data: &Dataset, examples_per_chunk: Option<usize>) -> Self {
        let n = data.examples();
        let size = match examples_per_chunk {
            Some(size) if net.batch_norm().is_none() && size > 0 => size.min(n),
            _ => n,
        };
        let p = net.parameters();
        let chunks = (0..n)
            .step_by(size.max(1))
            .map(|first| {
                let last = (first + size).min(n);
                let part = data.rows(first..last);
                Chunk {
                    workspace: net.workspace(part.examples()),
                    gradient: vec![0.0; p],
                    product: vec![0.0; p],
                    weight: (last - first) as f64 / n as f64,
                    data: part,
                }
            })
            .collect();
        ChunkedEvaluator { chunks }
    }

    /// The number of chunks.
    pub fn chunks(&self) -> usize {
        self.chunks.len()
    }

    /// The full-data loss at `theta`, its gradient written to `gradient`; leaves every
    /// chunk's workspace ready for [`ChunkedEvaluator::hessian_vector`] at `theta`.
    pub fn loss_and_gradient(&mut self, net: &Mlp, theta: &[f64], gradient: &mut [f64]) -> f64 {
        if let [only] = self.chunks.as_mut_slice() {
            return net.loss_and_gradient(theta, &only.data, &mut only.workspace, gradient);
        }
        let losses: Vec<f64> = self
            .chunks
            .par_iter_mut()
            .map(|c| net.loss_and_gradient(theta, &c.data, &mut c.workspace, &mut c.gradient))
            .collect();
        gradient.fill(0.0);
        let mut loss = 0.0;
        for (c, l) in self.chunks.iter().zip(losses) {
            loss += c.weight * l;
            gradient
                .iter_mut()
                .zip(&c.gradient)
                .for_each(|(g, x)| *g += c.weight * x);
        }
        loss
    }

    /// `H v` at the point of the last [`ChunkedEvaluator::loss_and_gradient`] call, written
    /// to `out`.
    pub fn hessian_vector(&mut self, net: &Mlp, theta: &[f64], v: &[f64], out: &mut [f64]) {
        if let [only] = self.chunks.as_mut_slice() {
            return net.hessian_vector(theta, &only.data, &mut only.workspace, v, out);
        }
        self.chunks.par_iter_mut().for_each(|c| {
            net.hessian_vector(theta, &c.data, &mut c.workspace, v, &mut c.product);
        });
        out.fill(0.0);
        for c in &self.chunks {
            out.iter_mut()
                .zip(&c.product)
                .for_each(|(o, x)| *o += c.weight * x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::chunk_stream;
    use crate::nets::{Activation, Loss};

    /// Chunked products equal the whole-batch ones to rounding (a sum in another order), on
    /// the digits with weight decay; one chunk reproduces them exactly; batch normalisation
    /// is never split.
    #[test]
    fn chunks_reproduce_the_full_batch() {
        let data = Dataset::digits();
        let net = Mlp::new(&[64, 6, 10], Activation::Tanh, Loss::CrossEntropy, 1e-3);
        let theta = net.initialise(1.0, &mut chunk_stream(3, "chunked", 0, 0));
        let p = theta.len();
        let v: Vec<f64> = (0..p)
            .map(|i| ((i * 31) % 17) as f64 / 17.0 - 0.5)
            .collect();
        let mut ws = net.workspace(data.examples());
        let (mut g, mut hv) = (vec![0.0; p], vec![0.0; p]);
        let loss = net.loss_and_gradient(&theta, &data, &mut ws, &mut g);
        net.hessian_vector(&theta, &data, &mut ws, &v, &mut hv);
        for (size, exact) in [(None, true), (Some(5000), true), (Some(256), false)] {
            let mut chunked = ChunkedEvaluator::new(&net, &data, size);
            assert_eq!(chunked.chunks() == 1, exact);
            let (mut g2, mut hv2) = (vec![0.0; p], vec![0.0; p]);
            let loss2 = chunked.loss_and_gradient(&net, &theta, &mut g2);
            chunked.hessian_vector(&net, &theta, &v, &mut hv2);
            let tolerance = if exact { 0.0 } else { 1e-12 };
            assert!((loss - loss2).abs() <= tolerance * loss.abs());
            let scale = |x: &[f64]| x.iter().fold(0.0_f64, |m, e| m.max(e.abs()));
            let (sg, sh) = (scale(&g), scale(&hv));
            assert!(
                g.iter()
                    .zip(&g2)
                    .all(|(a, b)| (a - b).abs() <= tolerance * sg)
            );
            assert!(
                hv.iter()
                    .zip(&hv2)
                    .all(|(a, b)| (a - b).abs() <= tolerance * sh)
            );
        }
        let normalised = net.with_batch_norm(1e-5);
        assert_eq!(
            ChunkedEvaluator::new(&normalised, &data, Some(256)).chunks(),
            1
        );
    }
}
