//! Fully connected networks with exact derivatives: backpropagation for the gradient and
//! Pearlmutter's R-operator for Hessian-vector products, both batched over the data as matrix
//! products (faer GEMMs), allocation-free after a workspace is built.
//!
//! Layer l (0-based, L layers) maps `a_{l−1}` (`a_{−1}` = the inputs X, one example per column)
//! to `z_l = W_l a_{l−1} + b_l 1ᵀ` and, for hidden layers, `a_l = σ(z_l)`; the output layer
//! stays linear. Losses, averaged over the N examples: softmax cross-entropy
//! `ℓ = (1/N) Σ_k [logsumexp(z_k) − z_k,y_k]` or squared error `ℓ = (1/2N) Σ_k ‖z_k − e_y_k‖²`,
//! plus `(λ/2) Σ_l ‖W_l‖²` (weight decay on the weights, not the biases).
//!
//! Backprop (e.g. Goodfellow, Bengio & Courville, *Deep Learning*, §6.5): `δ_L = ∂ℓ/∂z_L`
//! (`(softmax − onehot)/N` or `(z − onehot)/N`), `∇W_l = δ_l a_{l−1}ᵀ + λW_l`, `∇b_l = δ_l 1`,
//! `δ_{l−1} = (W_lᵀ δ_l) ⊙ σ′(z_{l−1})`.
//!
//! R-operator (B. A. Pearlmutter, *Neural Computation* 6, 147, 1994,
//! doi:10.1162/neco.1994.6.1.147): `R{·}` is the directional derivative along v = (V_W, v_b).
//! Forward: `R z_l = V_W_l a_{l−1} + W_l R a_{l−1} + v_b_l 1ᵀ`, `R a_l = σ′(z_l) ⊙ R z_l`.
//! Backward: `R δ_L = (diag p − p pᵀ) R z_L / N` per example (cross-entropy) or `R z_L / N`,
//! `R∇W_l = R δ_l a_{l−1}ᵀ + δ_l (R a_{l−1})ᵀ + λV_W_l`, `R∇b_l = R δ_l 1`,
//! `R δ_{l−1} = (V_W_lᵀ δ_l + W_lᵀ R δ_l) ⊙ σ′(z_{l−1}) + (W_lᵀ δ_l) ⊙ σ″(z_{l−1}) ⊙ R z_{l−1}`;
//! `R∇ℓ = H v` exactly.

use std::ops::Range;

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

use super::batch_norm::{self, NormBuffers, Statistics};
use super::data::Dataset;
use crate::choice;

choice! {
    /// A hidden-layer nonlinearity.
    pub enum Activation {
        /// `tanh z`.
        Tanh = "tanh",
        /// `max(z, 0)` (σ″ = 0 almost everywhere: the Hessian is the Gauss–Newton part plus
        /// nothing from the kinks).
        Relu = "relu",
        /// `ln(1 + e^z)`.
        Softplus = "softplus",
    }
}

choice! {
    /// The training loss.
    pub enum Loss {
        /// Softmax cross-entropy.
        CrossEntropy = "cross-entropy",
        /// Half the squared distance to the one-hot target.
        SquaredError = "squared-error",
        /// Half the squared distance of the softmax probabilities to the one-hot target,
        /// `½‖p − e_y‖²`: its gradient `J(p − e_y)`, `J = diag(p) − ppᵀ`, vanishes wherever
        /// the softmax saturates, right or wrong — the badly designed loss of C9.
        SoftmaxSquaredError = "softmax-squared-error",
    }
}

impl Activation {
    /// `(σ(z), σ′(z), σ″(z))`.
    #[inline]
    fn eval(self, z: f64) -> (f64, f64, f64) {
        match self {
            Activation::Tanh => {
                let a = z.tanh();
                let d = 1.0 - a * a;
                (a, d, -2.0 * a * d)
            }
            Activation::Relu => {
                if z > 0.0 {
                    (z, 1.0, 0.0)
                } else {
                    (0.0, 0.0, 0.0)
                }
            }
            Activation::Softplus => {
                let s = 1.0 / (1.0 + (-z).exp());
                let a = if z > 30.0 { z } else { z.exp().ln_1p() };
                (a, s, s * (1.0 - s))
            }
        }
    }
}

/// Where one layer's parameters sit in the flat parameter vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerSlices {
    /// `W_l`, `outputs × inputs`, column-major.
    pub weights: Range<usize>,
    /// The batch-normalisation gains γ_l (empty for a layer without normalisation).
    pub scales: Range<usize>,
    /// `b_l`; for a normalised layer the shift β_l applied after normalising (a bias before
    /// it would be cancelled by the mean subtraction).
    pub biases: Range<usize>,
    /// Inputs of the layer.
    pub inputs: usize,
    /// Outputs of the layer.
    pub outputs: usize,
}

/// A fully connected network: layer widths, activation, loss and weight decay; its
/// parameters live in one flat `Vec<f64>` laid out by [`Mlp::layers`].
///
/// ```
/// use stuck::nets::{Activation, Loss, Mlp};
/// let net = Mlp::new(&[64, 16, 10], Activation::Tanh, Loss::CrossEntropy, 0.0);
/// assert_eq!(net.parameters(), 64 * 16 + 16 + 16 * 10 + 10);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    layers: Vec<LayerSlices>,
    activation: Activation,
    loss: Loss,
    weight_decay: f64,
    /// ε of batch normalisation on every hidden layer, or `None` without it.
    batch_norm: Option<f64>,
}

/// Lays out the parameters of a network with these widths: per layer `W_l`, then γ_l for
/// a normalised (hidden) layer, then `b_l`.
fn layout(widths: &[usize], normalised: bool) -> Vec<LayerSlices> {
    let mut offset = 0;
    let hidden = widths.len().saturating_sub(2);
    widths
        .windows(2)
        .enumerate()
        .map(|(l, w)| {
            let (inputs, outputs) = (w[0], w[1]);
            let weights = offset..offset + inputs * outputs;
            let gains = if normalised && l < hidden { outputs } else { 0 };
            let scales = weights.end..weights.end + gains;
            let biases = scales.end..scales.end + outputs;
            offset = biases.end;
            LayerSlices {
                weights,
                scales,
                biases,
                inputs,
                outputs,
            }
        })
        .collect()
}

impl Mlp {
    /// A network with the given widths (input first, output last; at least two).
    pub fn new(widths: &[usize], activation: Activation, loss: Loss, weight_decay: f64) -> Self {
        assert!(
            widths.len() >= 2,
            "a network needs an input and an output width"
        );
        Mlp {
            layers: layout(widths, false),
            activation,
            loss,
            weight_decay,
            batch_norm: None,
        }
    }

    /// The same network with batch normalisation (see [`Statistics`] for the two modes) on
    /// every hidden layer, with variance floor `epsilon` (e.g. 1e-5): each hidden unit gets
    /// a gain γ and its bias becomes the shift β after normalising, so P grows by the number
    /// of hidden units. The loss, gradient and Hessian-vector products are those of train
    /// mode: the statistics are the examples' own, functions of the weights.
    ///
    /// ```
    /// use stuck::nets::{Activation, Loss, Mlp};
    /// let net = Mlp::new(&[64, 16, 10], Activation::Relu, Loss::CrossEntropy, 0.0)
    ///     .with_batch_norm(1e-5);
    /// assert_eq!(net.parameters(), 64 * 16 + 16 + 16 + 16 * 10 + 10);
    /// assert_eq!(net.layers()[0].scales.len(), 16);
    /// ```
    pub fn with_batch_norm(self, epsilon: f64) -> Self {
        let mut widths: Vec<usize> = self.layers.iter().map(|l| l.inputs).collect();
        widths.extend(self.layers.last().map(|l| l.outputs));
        Mlp {
            layers: layout(&widths, true),
            batch_norm: Some(epsilon),
            ..self
        }
    }

    /// ε of batch normalisation, or `None` for a network without it.
    pub fn batch_norm(&self) -> Option<f64> {
        self.batch_norm
    }

    /// Number of parameters P.
    pub fn parameters(&self) -> usize {
        self.layers.last().map_or(0, |l| l.biases.end)
    }

    /// The named per-layer slices of the parameter vector.
    pub fn layers(&self) -> &[LayerSlices] {
        &self.layers
    }

    /// The hidden-layer nonlinearity.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// The training loss.
    pub fn loss_function(&self) -> Loss {
        self.loss
    }

    /// The weight-decay coefficient λ.
    pub fn weight_decay(&self) -> f64 {
        self.weight_decay
    }

    /// Glorot-style initialisation: weights `N(0, gain²/fan_in)`, biases 0, normalisation
    /// gains 1.
    pub fn initialise<R: rand::Rng + ?Sized>(&self, gain: f64, rng: &mut R) -> Vec<f64> {
        use rand::RngExt;
        use rand_distr::StandardNormal;
        let mut theta = vec![0.0; self.parameters()];
        for l in &self.layers {
            let sd = gain / (l.inputs as f64).sqrt();
            for w in &mut theta[l.weights.clone()] {
                *w = sd * rng.sample::<f64, _>(StandardNormal);
            }
            theta[l.scales.clone()].fill(1.0);
        }
        theta
    }

    /// A workspace for `examples` examples at a time.
    pub fn workspace(&self, examples: usize) -> Workspace {
        let per_layer = |f: &dyn Fn(&LayerSlices) -> usize| -> Vec<Vec<f64>> {
            self.layers
                .iter()
                .map(|l| vec![0.0; f(l) * examples])
                .collect()
        };
        Workspace {
            examples,
            z: per_layer(&|l| l.outputs),
            a: per_layer(&|l| l.outputs),
            d1: per_layer(&|l| l.outputs),
            d2: per_layer(&|l| l.outputs),
            delta: per_layer(&|l| l.outputs),
            back: per_layer(&|l| l.inputs),
            rz: per_layer(&|l| l.outputs),
            ra: per_layer(&|l| l.outputs),
            rdelta: per_layer(&|l| l.outputs),
            scratch: per_layer(&|l| l.inputs),
            norm: self
                .layers
                .iter()
                .map(|l| {
                    if l.scales.is_empty() {
                        NormBuffers::default()
                    } else {
                        NormBuffers::new(l.outputs, examples)
                    }
                })
                .collect(),
        }
    }

    /// Forward and backward pass at `theta` on `data`: the loss, with the gradient written to
    /// `gradient`; the workspace then holds what [`Mlp::hessian_vector`] needs at `theta`.
    pub fn loss_and_gradient(
        &self,
        theta: &[f64],
        data: &Dataset,
        ws: &mut Workspace,
        gradient: &mut [f64],
    ) -> f64 {
        let n = data.examples();
        assert_eq!(
            ws.examples, n,
            "workspace built for another number of examples"
        );
        self.forward(theta, data, ws, None);
        let loss = self.output_delta(data, ws);
        for (l, layer) in self.layers.iter().enumerate().rev() {
            let (before, rest) = ws.delta.split_at_mut(l);
            // ∂ℓ/∂z_l; for a normalised layer the weights see ∂ℓ/∂u_l instead.
            let delta = if layer.scales.is_empty() {
                row_sums(&rest[0], layer.outputs, &mut gradient[layer.biases.clone()]);
                &rest[0]
            } else {
                let (scales, biases) =
                    gradient[layer.scales.start..layer.biases.end].split_at_mut(layer.outputs);
                batch_norm::backward(
                    &rest[0],
                    &theta[layer.scales.clone()],
                    scales,
                    biases,
                    &mut ws.norm[l],
                );
                &ws.norm[l].du
            };
            let input = if l == 0 { &data.inputs } else { &ws.a[l - 1] };
            // ∇W_l = δ_l a_{l−1}ᵀ + λ W_l.
            gradient[layer.weights.clone()].copy_from_slice(&theta[layer.weights.clone()]);
            gemm(
                &mut gradient[layer.weights.clone()],
                (layer.outputs, layer.inputs),
                view(delta, layer.outputs, n),
                view(input, layer.inputs, n).transpose(),
                self.weight_decay,
            );
            if l > 0 {
                // back_l = W_lᵀ δ_l; δ_{l−1} = back_l ⊙ σ′(z_{l−1}).
                gemm(
                    &mut ws.back[l],
                    (layer.inputs, n),
                    view(&theta[layer.weights.clone()], layer.outputs, layer.inputs).transpose(),
                    view(delta, layer.outputs, n),
                    0.0,
                );
                for ((d, b), s) in before[l - 1].iter_mut().zip(&ws.back[l]).zip(&ws.d1[l - 1]) {
                    *d = b * s;
                }
            }
        }
        loss + self.weight_penalty(theta)
    }

    /// The loss alone (a forward pass).
    pub fn loss(&self, theta: &[f64], data: &Dataset, ws: &mut Workspace) -> f64 {
        self.forward(theta, data, ws, None);
        let loss = self.output_delta(data, ws);
        loss + self.weight_penalty(theta)
    }

    /// The output layer's values before the loss (the logits), `outputs × examples`
    /// column-major (one example's outputs contiguous), at `theta` on `data` (a forward pass;
    /// train-mode statistics for a normalised network).
    pub fn outputs<'w>(&self, theta: &[f64], data: &Dataset, ws: &'w mut Workspace) -> &'w [f64] {
        self.forward(theta, data, ws, None);
        &ws.z[self.layers.len() - 1]
    }

    /// `(λ/2) Σ_l ‖W_l‖²`.
    fn weight_penalty(&self, theta: &[f64]) -> f64 {
        let squares: f64 = self
            .layers
            .iter()
            .map(|l| theta[l.weights.clone()].iter().map(|w| w * w).sum::<f64>())
            .sum();
        0.5 * self.weight_decay * squares
    }

    /// The per-unit statistics of every normalised layer on `data` at `theta` (e.g. the
    /// whole training set), to freeze for eval mode.
    ///
    /// ```
    /// use stuck::mc::chunk_stream;
    /// use stuck::nets::{Activation, Dataset, Loss, Mlp};
    /// let split = Dataset::iris().split(0.3, &mut chunk_stream(1, "doc", 0, 0));
    /// let net = Mlp::new(&[4, 8, 3], Activation::Tanh, Loss::CrossEntropy, 0.0)
    ///     .with_batch_norm(1e-5);
    /// let theta = net.initialise(1.0, &mut chunk_stream(2, "doc", 0, 0));
    /// let mut ws = net.workspace(split.train.examples());
    /// let frozen = net.statistics(&theta, &split.train, &mut ws);
    /// // Eval mode on the training set itself is train mode.
    /// assert_eq!(
    ///     net.accuracy(&theta, &split.train, &mut ws, Some(&frozen)),
    ///     net.accuracy(&theta, &split.train, &mut ws, None)
    /// );
    /// ```
    pub fn statistics(&self, theta: &[f64], data: &Dataset, ws: &mut Workspace) -> Statistics {
        self.forward(theta, data, ws, None);
        Statistics {
            mean: ws.norm.iter().map(|b| b.mean.clone()).collect(),
            inv_std: ws.norm.iter().map(|b| b.inv_std.clone()).collect(),
        }
    }

    /// Fraction of examples whose largest output is their label. Normalised layers use the
    /// statistics of `data` itself (train mode) when `frozen` is `None`, else the frozen
    /// ones (eval mode, e.g. test accuracy with the training set's statistics).
    pub fn accuracy(
        &self,
        theta: &[f64],
        data: &Dataset,
        ws: &mut Workspace,
        frozen: Option<&Statistics>,
    ) -> f64 {
        self.forward(theta, data, ws, frozen);
        let out = self.layers.last().map_or(0, |l| l.outputs);
        let z = &ws.z[self.layers.len() - 1];
        let right = data
            .labels
            .iter()
            .enumerate()
            .filter(|(k, y)| {
                let column = &z[k * out..(k + 1) * out];
                let best = column
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f64::NEG_INFINITY),
                        |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                    );
                best.0 == **y
            })
            .count();
        right as f64 / data.examples() as f64
    }

    /// `H v` at the point of the last [`Mlp::loss_and_gradient`] call on this workspace, by
    /// the R-operator (exact to rounding), written to `out`.
    pub fn hessian_vector(
        &self,
        theta: &[f64],
        data: &Dataset,
        ws: &mut Workspace,
        v: &[f64],
        out: &mut [f64],
    ) {
        let n = data.examples();
        let last = self.layers.len() - 1;
        // Forward R pass.
        for (l, layer) in self.layers.iter().enumerate() {
            let input = if l == 0 { &data.inputs } else { &ws.a[l - 1] };
            let rz = &mut ws.rz[l];
            let normalised = !layer.scales.is_empty();
            if !normalised {
                broadcast_bias(rz, &v[layer.biases.clone()], layer.outputs);
            }
            gemm(
                rz,
                (layer.outputs, n),
                view(&v[layer.weights.clone()], layer.outputs, layer.inputs),
                view(input, layer.inputs, n),
                if normalised { 0.0 } else { 1.0 },
            );
            if l > 0 {
                gemm(
                    &mut ws.rz[l],
                    (layer.outputs, n),
                    view(&theta[layer.weights.clone()], layer.outputs, layer.inputs),
                    view(&ws.ra[l - 1], layer.inputs, n),
                    1.0,
                );
            }
            if normalised {
                batch_norm::r_forward(
                    &mut ws.rz[l],
                    &theta[layer.scales.clone()],
                    &v[layer.scales.clone()],
                    &v[layer.biases.clone()],
                    &mut ws.norm[l],
                );
            }
            if l < last {
                for ((ra, rz), s) in ws.ra[l].iter_mut().zip(&ws.rz[l]).zip(&ws.d1[l]) {
                    *ra = s * rz;
                }
            }
        }
        self.output_r_delta(data, ws);
        // Backward R pass.
        for (l, layer) in self.layers.iter().enumerate().rev() {
            let input = if l == 0 { &data.inputs } else { &ws.a[l - 1] };
            let (rdelta_before, rdelta_rest) = ws.rdelta.split_at_mut(l);
            // (∂ℓ/∂z_l, R ∂ℓ/∂z_l), or (∂ℓ/∂u_l, R ∂ℓ/∂u_l) for a normalised layer.
            let (delta, rdelta) = if layer.scales.is_empty() {
                row_sums(
                    &rdelta_rest[0],
                    layer.outputs,
                    &mut out[layer.biases.clone()],
                );
                (&ws.delta[l], &rdelta_rest[0])
            } else {
                let (scales, biases) =
                    out[layer.scales.start..layer.biases.end].split_at_mut(layer.outputs);
                batch_norm::r_backward(
                    &ws.delta[l],
                    &rdelta_rest[0],
                    &theta[layer.scales.clone()],
                    &v[layer.scales.clone()],
                    scales,
                    biases,
                    &mut ws.norm[l],
                );
                (&ws.norm[l].du, &ws.norm[l].rdu)
            };
            let w_out = &mut out[layer.weights.clone()];
            w_out.copy_from_slice(&v[layer.weights.clone()]);
            gemm(
                w_out,
                (layer.outputs, layer.inputs),
                view(rdelta, layer.outputs, n),
                view(input, layer.inputs, n).transpose(),
                self.weight_decay,
            );
            if l > 0 {
                gemm(
                    w_out,
                    (layer.outputs, layer.inputs),
                    view(delta, layer.outputs, n),
                    view(&ws.ra[l - 1], layer.inputs, n).transpose(),
                    1.0,
                );
            }
            if l > 0 {
                // scratch = V_W_lᵀ δ_l + W_lᵀ R δ_l.
                let scratch = &mut ws.scratch[l];
                gemm(
                    scratch,
                    (layer.inputs, n),
                    view(&v[layer.weights.clone()], layer.outputs, layer.inputs).transpose(),
                    view(delta, layer.outputs, n),
                    0.0,
                );
                gemm(
                    scratch,
                    (layer.inputs, n),
                    view(&theta[layer.weights.clone()], layer.outputs, layer.inputs).transpose(),
                    view(rdelta, layer.outputs, n),
                    1.0,
                );
                chain_r_delta(
                    &mut rdelta_before[l - 1],
                    scratch,
                    (&ws.d1[l - 1], &ws.d2[l - 1]),
                    &ws.rz[l - 1],
                    &ws.back[l],
                );
            }
        }
    }

    /// `R δ_L` from `R z_L` (after the forward R pass): `R z_L / N` for squared error,
    /// `(diag p − p pᵀ) R z_L / N` per example for cross-entropy.
    pub(super) fn output_r_delta(&self, data: &Dataset, ws: &mut Workspace) {
        let n = data.examples();
        let last = self.layers.len() - 1;
        let out_width = self.layers[last].outputs;
        let scale = 1.0 / n as f64;
        match self.loss {
            Loss::SquaredError => {
                for (rd, rz) in ws.rdelta[last].iter_mut().zip(&ws.rz[last]) {
                    *rd = rz * scale;
                }
            }
            Loss::CrossEntropy => {
                // ws.a[last] holds the softmax probabilities (see output_delta).
                for k in 0..n {
                    let cols = k * out_width..(k + 1) * out_width;
                    let p = &ws.a[last][cols.clone()];
                    let rz = &ws.rz[last][cols.clone()];
                    let mean: f64 = p.iter().zip(rz).map(|(p, r)| p * r).sum();
                    for ((rd, p), r) in ws.rdelta[last][cols].iter_mut().zip(p).zip(rz) {
                        *rd = p * (r - mean) * scale;
                    }
                }
            }
            Loss::SoftmaxSquaredError => {
                // δ = J r with J = diag(p) − ppᵀ, r = p − e_y, Rp = J Rz:
                // Rδ = Rp ⊙ r − (pᵀr) Rp − (Rpᵀr) p + J Rp.
                for (k, &y) in data.labels.iter().enumerate() {
                    let cols = k * out_width..(k + 1) * out_width;
                    let p = &ws.a[last][cols.clone()];
                    let rz = &ws.rz[last][cols.clone()];
                    let p_rz: f64 = p.iter().zip(rz).map(|(p, r)| p * r).sum();
                    let rp = |i: usize| p[i] * (rz[i] - p_rz);
                    let r = |i: usize| p[i] - f64::from(u8::from(i == y));
                    let p_r: f64 = (0..out_width).map(|i| p[i] * r(i)).sum();
                    let rp_r: f64 = (0..out_width).map(|i| rp(i) * r(i)).sum();
                    let p_rp: f64 = (0..out_width).map(|i| p[i] * rp(i)).sum();
                    for (i, rd) in ws.rdelta[last][cols].iter_mut().enumerate() {
                        *rd = (rp(i) * r(i) - p_r * rp(i) - rp_r * p[i] + p[i] * (rp(i) - p_rp))
                            * scale;
                    }
                }
            }
        }
    }

    /// Forward pass; normalised layers use the batch's statistics, or `frozen` (eval mode).
    fn forward(
        &self,
        theta: &[f64],
        data: &Dataset,
        ws: &mut Workspace,
        frozen: Option<&Statistics>,
    ) {
        let n = data.examples();
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            let (done, current) = ws.a.split_at_mut(l);
            let input = if l == 0 { &data.inputs } else { &done[l - 1] };
            let z = &mut ws.z[l];
            let normalised = !layer.scales.is_empty();
            if !normalised {
                broadcast_bias(z, &theta[layer.biases.clone()], layer.outputs);
            }
            gemm(
                z,
                (layer.outputs, n),
                view(&theta[layer.weights.clone()], layer.outputs, layer.inputs),
                view(input, layer.inputs, n),
                if normalised { 0.0 } else { 1.0 },
            );
            if normalised {
                batch_norm::forward(
                    z,
                    &theta[layer.scales.clone()],
                    &theta[layer.biases.clone()],
                    self.batch_norm.unwrap_or(0.0),
                    frozen.map(|f| (&f.mean[l][..], &f.inv_std[l][..])),
                    &mut ws.norm[l],
                );
            }
            if l < last {
                let (a, d1, d2) = (&mut current[0], &mut ws.d1[l], &mut ws.d2[l]);
                for i in 0..z.len() {
                    (a[i], d1[i], d2[i]) = self.activation.eval(z[i]);
                }
            }
        }
    }

    /// `δ_L` and the data loss; for cross-entropy `a_L` is set to the softmax probabilities.
    fn output_delta(&self, data: &Dataset, ws: &mut Workspace) -> f64 {
        let n = data.examples();
        let last = self.layers.len() - 1;
        let width = self.layers[last].outputs;
        let scale = 1.0 / n as f64;
        let mut loss = 0.0;
        for (k, &y) in data.labels.iter().enumerate() {
            let cols = k * width..(k + 1) * width;
            let z = &ws.z[last][cols.clone()];
            match self.loss {
                Loss::CrossEntropy => {
                    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
                    let log_sum = max + sum.ln();
                    loss += (log_sum - z[y]) * scale;
                    let p = &mut ws.a[last][cols.clone()];
                    for (p, v) in p.iter_mut().zip(z) {
                        *p = (v - log_sum).exp();
                    }
                    let delta = &mut ws.delta[last][cols];
                    for (i, (d, p)) in delta.iter_mut().zip(p.iter()).enumerate() {
                        *d = (p - f64::from(u8::from(i == y))) * scale;
                    }
                }
                Loss::SquaredError => {
                    let delta = &mut ws.delta[last][cols];
                    for (i, (d, v)) in delta.iter_mut().zip(z).enumerate() {
                        let r = v - f64::from(u8::from(i == y));
                        loss += 0.5 * r * r * scale;
                        *d = r * scale;
                    }
                }
                Loss::SoftmaxSquaredError => {
                    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
                    let p = &mut ws.a[last][cols.clone()];
                    for (p, v) in p.iter_mut().zip(z) {
                        *p = (v - max).exp() / sum;
                    }
                    let r = |i: usize, p: f64| p - f64::from(u8::from(i == y));
                    let p_r: f64 = p.iter().enumerate().map(|(i, &p)| p * r(i, p)).sum();
                    loss += 0.5
                        * p.iter()
                            .enumerate()
                            .map(|(i, &p)| r(i, p) * r(i, p))
                            .sum::<f64>()
                        * scale;
                    let delta = &mut ws.delta[last][cols];
                    for (i, (d, &p)) in delta.iter_mut().zip(p.iter()).enumerate() {
                        *d = p * (r(i, p) - p_r) * scale;
                    }
                }
            }
        }
        loss
    }
}

/// Buffers of one network on a fixed number of examples (one per thread).
#[derive(Debug, Clone)]
pub struct Workspace {
    pub(super) examples: usize,
    pub(super) z: Vec<Vec<f64>>,
    pub(super) a: Vec<Vec<f64>>,
    pub(super) d1: Vec<Vec<f64>>,
    pub(super) d2: Vec<Vec<f64>>,
    pub(super) delta: Vec<Vec<f64>>,
    pub(super) back: Vec<Vec<f64>>,
    pub(super) rz: Vec<Vec<f64>>,
    pub(super) ra: Vec<Vec<f64>>,
    pub(super) rdelta: Vec<Vec<f64>>,
    pub(super) scratch: Vec<Vec<f64>>,
    pub(super) norm: Vec<NormBuffers>,
}

pub(super) fn view(data: &[f64], rows: usize, cols: usize) -> MatRef<'_, f64> {
    MatRef::from_column_major_slice(data, rows, cols)
}

/// `dst ← beta·dst + lhs·rhs` (beta 0 overwrites), sequential: the engine parallelises over
/// seeds, so a GEMM never spawns threads of its own.
pub(super) fn gemm(
    dst: &mut [f64],
    (rows, cols): (usize, usize),
    lhs: MatRef<'_, f64>,
    rhs: MatRef<'_, f64>,
    beta: f64,
) {
    let accum = if beta == 0.0 {
        Accum::Replace
    } else {
        if beta != 1.0 {
            dst.iter_mut().for_each(|d| *d *= beta);
        }
        Accum::Add
    };
    let out = MatMut::from_column_major_slice_mut(dst, rows, cols);
    matmul(out, accum, lhs, rhs, 1.0, Par::Seq);
}

/// Every column of the `rows × n` matrix `dst` set to `bias`.
fn broadcast_bias(dst: &mut [f64], bias: &[f64], rows: usize) {
    for column in dst.chunks_mut(rows) {
        column.copy_from_slice(bias);
    }
}

/// `R δ_{l−1} = scratch ⊙ σ′(z_{l−1}) + back ⊙ σ″(z_{l−1}) ⊙ R z_{l−1}`, with
/// `scratch = R(W_lᵀ δ_l)` and `back = W_lᵀ δ_l` (zipped slices: no bounds checks, and the
/// loop vectorises).
pub(super) fn chain_r_delta(
    target: &mut [f64],
    scratch: &[f64],
    (d1, d2): (&[f64], &[f64]),
    rz: &[f64],
    back: &[f64],
) {
    let second = d2.iter().zip(rz).zip(back);
    for (((t, s), d1), ((d2, rz), b)) in target.iter_mut().zip(scratch).zip(d1).zip(second) {
        *t = s * d1 + b * d2 * rz;
    }
}

/// `out = M 1` for the `rows × n` matrix M.
pub(super) fn row_sums(m: &[f64], rows: usize, out: &mut [f64]) {
    out.iter_mut().for_each(|o| *o = 0.0);
    for column in m.chunks(rows) {
        out.iter_mut().zip(column).for_each(|(o, v)| *o += v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::choice::Choice;
    use crate::mc::chunk_stream;
    use num_dual::{Dual64, DualNum};

    /// A small slice of the digits: `examples` examples with `features` leading features.
    fn small_data(examples: usize, features: usize) -> Dataset {
        let digits = Dataset::digits();
        let split = digits.split(0.5, &mut chunk_stream(3, "mlp-test", 0, 0));
        let d = split.train;
        let mut inputs = Vec::new();
        for k in 0..examples {
            // Pixels 20.. carry signal (the first columns are often blank).
            inputs.extend_from_slice(&d.inputs[k * 64 + 20..k * 64 + 20 + features]);
        }
        Dataset {
            inputs,
            labels: d.labels[..examples].iter().map(|l| l % 3).collect(),
            features,
            classes: 3,
        }
    }

    /// Weights from `initialise`, biases N(0, 0.3²) (zero biases would put ReLU units of
    /// dead inputs exactly on their kink, where no derivative exists) and normalisation gains
    /// 1 + N(0, 0.3²) (so that no term of the derivatives is hidden by γ = 1).
    fn random_point(net: &Mlp, rng: &mut crate::mc::StreamRng) -> Vec<f64> {
        use rand::RngExt;
        let mut theta = net.initialise(1.5, rng);
        for l in net.layers() {
            for b in &mut theta[l.biases.clone()] {
                *b = 0.3 * rng.sample::<f64, _>(rand_distr::StandardNormal);
            }
            for g in &mut theta[l.scales.clone()] {
                *g += 0.3 * rng.sample::<f64, _>(rand_distr::StandardNormal);
            }
        }
        theta
    }

    /// Every activation × loss, without and with batch normalisation (ε = 1e-3, large
    /// enough to keep the test's third derivatives O(1) on 10–12 examples).
    fn networks() -> Vec<Mlp> {
        let mut nets = Vec::new();
        for &activation in Activation::ALL {
            for &loss in Loss::ALL {
                let net = Mlp::new(&[5, 4, 3, 3], activation, loss, 1e-2);
                nets.push(net.clone().with_batch_norm(1e-3));
                nets.push(net);
            }
        }
        nets
    }

    fn gradient_of(net: &Mlp, theta: &[f64], data: &Dataset) -> Vec<f64> {
        let mut ws = net.workspace(data.examples());
        let mut g = vec![0.0; net.parameters()];
        net.loss_and_gradient(theta, data, &mut ws, &mut g);
        g
    }

    fn hvp_of(net: &Mlp, theta: &[f64], data: &Dataset, v: &[f64]) -> Vec<f64> {
        let mut ws = net.workspace(data.examples());
        let mut g = vec![0.0; net.parameters()];
        net.loss_and_gradient(theta, data, &mut ws, &mut g);
        let mut hv = vec![0.0; net.parameters()];
        net.hessian_vector(theta, data, &mut ws, v, &mut hv);
        hv
    }

    fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    /// Central differences: the gradient against the loss, `Hv` against the gradient. With
    /// step h the truncation error is O(h²·third derivative) ≈ 1e-8 at h = 1e-5 and the
    /// rounding error O(ε/h) ≈ 1e-11, so 1e-6 is a safe bound for O(1) derivatives.
    #[test]
    fn gradient_and_hvp_match_central_differences() {
        let data = small_data(12, 5);
        for net in networks() {
            let mut rng = chunk_stream(1, "fd", 0, 0);
            let theta = random_point(&net, &mut rng);
            let v = net.initialise(1.0, &mut rng);
            let g = gradient_of(&net, &theta, &data);
            let h = 1e-5;
            let mut ws = net.workspace(data.examples());
            let at = |t: &[f64], ws: &mut Workspace| net.loss(t, &data, ws);
            for i in 0..net.parameters() {
                let (mut plus, mut minus) = (theta.clone(), theta.clone());
                plus[i] += h;
                minus[i] -= h;
                let fd = (at(&plus, &mut ws) - at(&minus, &mut ws)) / (2.0 * h);
                assert!((fd - g[i]).abs() < 1e-6, "{net:?} ∂{i}: {fd} vs {}", g[i]);
            }
            let plus: Vec<f64> = theta.iter().zip(&v).map(|(t, v)| t + h * v).collect();
            let minus: Vec<f64> = theta.iter().zip(&v).map(|(t, v)| t - h * v).collect();
            let (gp, gm) = (
                gradient_of(&net, &plus, &data),
                gradient_of(&net, &minus, &data),
            );
            let fd: Vec<f64> = gp
                .iter()
                .zip(&gm)
                .map(|(a, b)| (a - b) / (2.0 * h))
                .collect();
            let hv = hvp_of(&net, &theta, &data, &v);
            assert!(
                max_abs_diff(&fd, &hv) < 1e-6,
                "{net:?}: {}",
                max_abs_diff(&fd, &hv)
            );
        }
    }

    /// An independent gradient, written with plain loops over examples and units and
    /// generic over the scalar: with `Dual64` at θ + εv its derivative part is `Hv` (forward
    /// over reverse). Batch normalisation is differentiated in the textbook form through μ
    /// and σ² (Ioffe & Szegedy 2015, p. 4), not the compact form of `batch_norm.rs`.
    fn reference_gradient<T: DualNum<Primitive = f64> + Copy>(
        net: &Mlp,
        theta: &[T],
        data: &Dataset,
    ) -> Vec<T> {
        let act = |z: T| -> (T, T) {
            match net.activation {
                Activation::Tanh => {
                    let a = z.tanh();
                    (a, T::from(1.0) - a * a)
                }
                Activation::Relu => {
                    if z.re() > 0.0 {
                        (z, T::from(1.0))
                    } else {
                        (T::from(0.0), T::from(0.0))
                    }
                }
                Activation::Softplus => {
                    let s = T::from(1.0) / (T::from(1.0) + (-z).exp());
                    (z.exp().ln_1p(), s)
                }
            }
        };
        let zero = T::from(0.0);
        let n = data.examples();
        let scale = 1.0 / n as f64;
        let mut grad = vec![zero; theta.len()];
        let w = |l: &LayerSlices, i: usize, j: usize| theta[l.weights.start + i + j * l.outputs];
        let last = net.layers.len() - 1;
        // acts[l][k]: the inputs of layer l for example k; per hidden layer the slopes σ′,
        // and for a normalised one (x̂, μ, σ²).
        let mut acts: Vec<Vec<Vec<T>>> = vec![
            (0..n)
                .map(|k| {
                    data.inputs[k * data.features..(k + 1) * data.features]
                        .iter()
                        .map(|&v| T::from(v))
                        .collect()
                })
                .collect(),
        ];
        let mut slopes: Vec<Vec<Vec<T>>> = Vec::new();
        // Per normalised layer: x̂[k][i] and σ²[i].
        type Normalised<T> = Option<(Vec<Vec<T>>, Vec<T>)>;
        let mut norms: Vec<Normalised<T>> = Vec::new();
        for (li, l) in net.layers.iter().enumerate() {
            let normalised = !l.scales.is_empty();
            let mut z: Vec<Vec<T>> = acts[li]
                .iter()
                .map(|input| {
                    (0..l.outputs)
                        .map(|i| {
                            let start = if normalised {
                                zero
                            } else {
                                theta[l.biases.start + i]
                            };
                            (0..l.inputs).fold(start, |s, j| s + w(l, i, j) * input[j])
                        })
                        .collect()
                })
                .collect();
            if normalised {
                let eps = net.batch_norm.unwrap();
                let mut xhat = z.clone();
                let mut variance = vec![zero; l.outputs];
                for i in 0..l.outputs {
                    let mu = z.iter().fold(zero, |s, zk| s + zk[i]) * scale;
                    let var = z.iter().fold(zero, |s, zk| s + (zk[i] - mu) * (zk[i] - mu)) * scale;
                    for k in 0..n {
                        xhat[k][i] = (z[k][i] - mu) / (var + eps).sqrt();
                        z[k][i] =
                            theta[l.scales.start + i] * xhat[k][i] + theta[l.biases.start + i];
                    }
                    variance[i] = var;
                }
                norms.push(Some((xhat, variance)));
            } else {
                norms.push(None);
            }
            if li < last {
                let (a, d): (Vec<Vec<T>>, Vec<Vec<T>>) = z
                    .iter()
                    .map(|zk| zk.iter().map(|&v| act(v)).unzip())
                    .unzip();
                acts.push(a);
                slopes.push(d);
            } else {
                acts.push(z);
            }
        }
        // delta[k][i] = ∂ℓ/∂z of the current layer.
        let mut delta: Vec<Vec<T>> = acts[last + 1]
            .iter()
            .zip(&data.labels)
            .map(|(z, &y)| match net.loss {
                Loss::CrossEntropy => {
                    let max = z.iter().map(|v| v.re()).fold(f64::NEG_INFINITY, f64::max);
                    let e: Vec<T> = z.iter().map(|&v| (v - max).exp()).collect();
                    let sum = e.iter().fold(zero, |s, &v| s + v);
                    e.iter()
                        .enumerate()
                        .map(|(i, &v)| (v / sum - f64::from(u8::from(i == y))) * scale)
                        .collect()
                }
                Loss::SquaredError => z
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| (v - f64::from(u8::from(i == y))) * scale)
                    .collect(),
                Loss::SoftmaxSquaredError => {
                    let max = z.iter().map(|v| v.re()).fold(f64::NEG_INFINITY, f64::max);
                    let e: Vec<T> = z.iter().map(|&v| (v - max).exp()).collect();
                    let sum = e.iter().fold(zero, |s, &v| s + v);
                    let p: Vec<T> = e.iter().map(|&v| v / sum).collect();
                    let r: Vec<T> = p
                        .iter()
                        .enumerate()
                        .map(|(i, &v)| v - f64::from(u8::from(i == y)))
                        .collect();
                    let p_r = p.iter().zip(&r).fold(zero, |s, (&a, &b)| s + a * b);
                    p.iter()
                        .zip(&r)
                        .map(|(&pi, &ri)| pi * (ri - p_r) * scale)
                        .collect()
                }
            })
            .collect();
        for (li, l) in net.layers.iter().enumerate().rev() {
            if let Some((xhat, variance)) = &norms[li] {
                // Through z = γx̂ + β, x̂ = (u − μ)/√(σ² + ε), μ and σ² of the batch.
                let eps = net.batch_norm.unwrap();
                for i in 0..l.outputs {
                    let gamma = theta[l.scales.start + i];
                    let sd = (variance[i] + eps).sqrt();
                    let dx: Vec<T> = (0..n).map(|k| delta[k][i] * gamma).collect();
                    for k in 0..n {
                        grad[l.scales.start + i] += delta[k][i] * xhat[k][i];
                        grad[l.biases.start + i] += delta[k][i];
                    }
                    // ∂ℓ/∂σ² = Σ dx (u − μ)(−½)(σ² + ε)^(−3/2), with u − μ = x̂·sd.
                    let dvar = (0..n).fold(zero, |s, k| s + dx[k] * xhat[k][i] * sd) * (-0.5)
                        / (sd * sd * sd);
                    // ∂ℓ/∂μ = −Σ dx/sd (the σ² term vanishes: Σ (u − μ) = 0).
                    let dmu = (0..n).fold(zero, |s, k| s + dx[k]) * (-1.0) / sd;
                    for k in 0..n {
                        delta[k][i] =
                            dx[k] / sd + dvar * xhat[k][i] * sd * (2.0 * scale) + dmu * scale;
                    }
                }
            }
            let input = &acts[li];
            for k in 0..n {
                for i in 0..l.outputs {
                    if l.scales.is_empty() {
                        grad[l.biases.start + i] += delta[k][i];
                    }
                    for j in 0..l.inputs {
                        grad[l.weights.start + i + j * l.outputs] += delta[k][i] * input[k][j];
                    }
                }
            }
            if li > 0 {
                delta = (0..n)
                    .map(|k| {
                        (0..l.inputs)
                            .map(|j| {
                                let back =
                                    (0..l.outputs).fold(zero, |s, i| s + w(l, i, j) * delta[k][i]);
                                back * slopes[li - 1][k][j]
                            })
                            .collect()
                    })
                    .collect();
            }
        }
        for l in &net.layers {
            for i in l.weights.clone() {
                grad[i] += theta[i] * net.weight_decay;
            }
        }
        grad
    }

    /// Three implementations agree: the batched backprop/R-op against the per-example
    /// reference in f64 (gradient) and with dual numbers (Hv), to 1e-12 relative.
    #[test]
    fn hvp_matches_forward_over_reverse_dual_numbers() {
        let data = small_data(10, 5);
        for net in networks() {
            let mut rng = chunk_stream(2, "dual", 0, 0);
            let theta = random_point(&net, &mut rng);
            let v = net.initialise(1.0, &mut rng);
            let g = gradient_of(&net, &theta, &data);
            let reference = reference_gradient(&net, &theta, &data);
            let scale = g.iter().fold(1e-3, |m: f64, x| m.max(x.abs()));
            assert!(
                max_abs_diff(&g, &reference) < 1e-12 * scale,
                "{net:?} gradient"
            );
            let dual: Vec<Dual64> = theta
                .iter()
                .zip(&v)
                .map(|(&t, &v)| Dual64::new(t, v))
                .collect();
            let hv_dual: Vec<f64> = reference_gradient(&net, &dual, &data)
                .iter()
                .map(|d| d.eps)
                .collect();
            let hv = hvp_of(&net, &theta, &data, &v);
            let scale = hv.iter().fold(1e-3, |m: f64, x| m.max(x.abs()));
            assert!(
                max_abs_diff(&hv, &hv_dual) < 1e-12 * scale,
                "{net:?}: {}",
                max_abs_diff(&hv, &hv_dual)
            );
        }
    }

    /// A network small enough to differentiate by hand: one input x, one tanh unit, one
    /// linear output, squared error against target 1 (class 0 of one output), one example:
    /// f = w₂ tanh(w₁x + b₁) + b₂, ℓ = (f − 1)²/2, so H = J Jᵀ + (f − 1)∇²f with
    /// J = (w₂a′x, w₂a′, a, 1) over (w₁, b₁, w₂, b₂) and ∇²f nonzero only in
    /// ∂²f/∂w₁² = w₂a″x², ∂²f/∂w₁∂b₁ = w₂a″x, ∂²f/∂b₁² = w₂a″, ∂²f/∂w₁∂w₂ = a′x,
    /// ∂²f/∂b₁∂w₂ = a′ (a = tanh u, a′ = 1 − a², a″ = −2aa′).
    #[test]
    fn hessian_of_a_one_unit_network_matches_the_hand_derivation() {
        let net = Mlp::new(&[1, 1, 1], Activation::Tanh, Loss::SquaredError, 0.0);
        let x = 0.7;
        let data = Dataset {
            inputs: vec![x],
            labels: vec![0],
            features: 1,
            classes: 1,
        };
        // Layout: w₁, b₁, w₂, b₂.
        let theta = [0.9, -0.3, 1.4, 0.2];
        let (w1, b1, w2, b2) = (theta[0], theta[1], theta[2], theta[3]);
        let a = (w1 * x + b1).tanh();
        let a1 = 1.0 - a * a;
        let a2 = -2.0 * a * a1;
        let r = w2 * a + b2 - 1.0;
        let j = [w2 * a1 * x, w2 * a1, a, 1.0];
        let mut second = [[0.0; 4]; 4];
        second[0][0] = w2 * a2 * x * x;
        second[0][1] = w2 * a2 * x;
        second[1][1] = w2 * a2;
        second[0][2] = a1 * x;
        second[1][2] = a1;
        let h = dense_hessian(&net, &theta, &data);
        for p in 0..4 {
            for q in 0..4 {
                let s = if p <= q { second[p][q] } else { second[q][p] };
                let expected = j[p] * j[q] + r * s;
                assert!(
                    (h[p + q * 4] - expected).abs() < 1e-14,
                    "H[{p}][{q}] = {} vs {expected}",
                    h[p + q * 4]
                );
            }
        }
    }

    /// Eval mode is the frozen affine map: the outputs of a subset of the examples under the
    /// whole set's frozen statistics equal those of train mode on the whole set, and differ
    /// from train mode on the subset alone (whose own statistics differ).
    #[test]
    fn eval_mode_applies_the_frozen_statistics() {
        let data = small_data(12, 5);
        let net =
            Mlp::new(&[5, 4, 3], Activation::Tanh, Loss::CrossEntropy, 0.0).with_batch_norm(1e-5);
        let theta = random_point(&net, &mut chunk_stream(4, "eval", 0, 0));
        let mut ws = net.workspace(data.examples());
        let frozen = net.statistics(&theta, &data, &mut ws);
        let whole = ws.z[1].clone();
        let head = Dataset {
            inputs: data.inputs[..4 * 5].to_vec(),
            labels: data.labels[..4].to_vec(),
            ..data.clone()
        };
        let mut head_ws = net.workspace(4);
        net.accuracy(&theta, &head, &mut head_ws, Some(&frozen));
        assert!(max_abs_diff(&head_ws.z[1], &whole[..4 * 3]) < 1e-13);
        net.accuracy(&theta, &head, &mut head_ws, None);
        assert!(max_abs_diff(&head_ws.z[1], &whole[..4 * 3]) > 1e-3);
    }

    /// The dense Hessian (specialised unit columns, lower rows by symmetry) equals the
    /// matrix of general Hessian-vector products along every `e_j`, for every activation,
    /// loss and depth-2 network, with and without batch normalisation, to 1e-12 relative.
    #[test]
    fn dense_hessian_matches_general_products_along_unit_vectors() {
        let data = small_data(10, 5);
        for net in networks() {
            let mut rng = chunk_stream(6, "columns", 0, 0);
            let theta = random_point(&net, &mut rng);
            let p = net.parameters();
            let mut unit = vec![0.0; p];
            let mut general = vec![0.0; p * p];
            for j in 0..p {
                unit[j] = 1.0;
                general[j * p..(j + 1) * p].copy_from_slice(&hvp_of(&net, &theta, &data, &unit));
                unit[j] = 0.0;
            }
            let h = dense_hessian(&net, &theta, &data);
            let size = general.iter().fold(1e-3, |m: f64, x| m.max(x.abs()));
            assert!(
                max_abs_diff(&h, &general) < 1e-12 * size,
                "{net:?}: {}",
                max_abs_diff(&h, &general)
            );
        }
    }

    use super::super::hessian::dense_hessian;

    /// The assembled Hessian is symmetric to rounding before symmetrisation, and its
    /// eigenvalues (faer) agree with nalgebra's to 1e-10 relative.
    #[test]
    fn dense_hessian_is_symmetric_and_its_spectrum_matches_nalgebra() {
        let data = small_data(30, 5);
        let net = Mlp::new(&[5, 6, 3], Activation::Tanh, Loss::CrossEntropy, 1e-3);
        let mut rng = chunk_stream(5, "hess", 0, 0);
        let theta = net.initialise(1.0, &mut rng);
        let p = net.parameters();
        let mut ws = net.workspace(data.examples());
        let mut g = vec![0.0; p];
        net.loss_and_gradient(&theta, &data, &mut ws, &mut g);
        let mut raw = vec![0.0; p * p];
        let mut unit = vec![0.0; p];
        for j in 0..p {
            unit[j] = 1.0;
            net.hessian_vector(&theta, &data, &mut ws, &unit, &mut raw[j * p..(j + 1) * p]);
            unit[j] = 0.0;
        }
        let size = raw.iter().fold(0.0, |m: f64, x| m.max(x.abs()));
        for i in 0..p {
            for j in 0..p {
                assert!((raw[i + j * p] - raw[j + i * p]).abs() < 1e-13 * size);
            }
        }
        let h = dense_hessian(&net, &theta, &data);
        let spectrum = super::super::Spectrum::of(&h, p).unwrap();
        let mut reference: Vec<f64> = nalgebra::DMatrix::from_column_slice(p, p, &h)
            .symmetric_eigenvalues()
            .iter()
            .copied()
            .collect();
        reference.sort_by(f64::total_cmp);
        let top = spectrum.max().abs();
        for (a, b) in spectrum.eigenvalues.iter().zip(&reference) {
            assert!((a - b).abs() < 1e-10 * top, "{a} vs {b}");
        }
        // The LBLᵀ inertia count equals the eigenvalue count at every threshold that is not
        // within rounding of an eigenvalue.
        for tau in [0.0, 1e-4, 1e-3, 1e-2, 1e-1].map(|t| t * top) {
            if spectrum
                .eigenvalues
                .iter()
                .all(|l| (l + tau).abs() > 1e-9 * top)
            {
                assert_eq!(
                    super::super::index_by_inertia(&h, p, tau),
                    spectrum.index(tau),
                    "tau {tau}"
                );
            }
        }
    }
}
