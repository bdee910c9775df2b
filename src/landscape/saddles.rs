//! Saddle landscapes for claim C4: a quadratic strict saddle, a two-layer linear network on a
//! finite data set, and a chain of saddles.

use rand::Rng;
use rand::RngExt;
use rand_distr::StandardNormal;

use super::Objective;

/// `f(x) = ½ Σᵢ hᵢ xᵢ²`: a strict saddle at 0 when some `hᵢ < 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct QuadraticSaddle {
    curvatures: Vec<f64>,
}

impl QuadraticSaddle {
    /// `negative` directions of curvature `−gamma` followed by `dimension − negative`
    /// directions of curvature `+positive`.
    pub fn new(dimension: usize, negative: usize, gamma: f64, positive: f64) -> Self {
        QuadraticSaddle {
            curvatures: (0..dimension)
                .map(|i| if i < negative { -gamma } else { positive })
                .collect(),
        }
    }
}

impl Objective for QuadraticSaddle {
    fn dimension(&self) -> usize {
        self.curvatures.len()
    }

    fn value(&self, x: &[f64]) -> f64 {
        0.5 * x
            .iter()
            .zip(&self.curvatures)
            .map(|(x, h)| h * x * x)
            .sum::<f64>()
    }

    fn gradient(&self, x: &[f64], out: &mut [f64]) {
        for ((o, x), h) in out.iter_mut().zip(x).zip(&self.curvatures) {
            *o = h * x;
        }
    }
}

/// Largest layer width of [`TwoLayerLinear`] (its gradient uses stack buffers of this size).
pub const MAX_WIDTH: usize = 16;

/// A two-layer linear network `x ↦ W₂W₁x` trained on `m` examples with the squared loss
/// `f(W₁, W₂) = (1/2m) Σᵢ ‖W₂W₁xᵢ − yᵢ‖²`.
///
/// `W₁ = W₂ = 0` is a saddle at which **every per-example gradient vanishes**
/// (`∇_{W₁}fᵢ = W₂ᵀrᵢxᵢᵀ`, `∇_{W₂}fᵢ = rᵢ(W₁xᵢ)ᵀ`), so minibatch noise is exactly zero
/// there (P. Baldi & K. Hornik, *Neural Networks* 2, 53, 1989, for the landscape).
/// Parameters are laid out as `W₁` (hidden × inputs, row-major) then `W₂`.
#[derive(Debug, Clone, PartialEq)]
pub struct TwoLayerLinear {
    inputs: usize,
    hidden: usize,
    outputs: usize,
    x: Vec<f64>,
    y: Vec<f64>,
}

impl TwoLayerLinear {
    /// A synthetic teacher problem: `xᵢ ~ N(0, I)`, `yᵢ = A xᵢ + noise·ξᵢ` with a Gaussian
    /// teacher `A` of entries N(0, 1/inputs). Widths are at most [`MAX_WIDTH`].
    pub fn teacher<R: Rng + ?Sized>(
        inputs: usize,
        hidden: usize,
        outputs: usize,
        examples: usize,
        noise: f64,
        rng: &mut R,
    ) -> Self {
        let teacher: Vec<f64> = (0..outputs * inputs)
            .map(|_| rng.sample::<f64, _>(StandardNormal) / (inputs as f64).sqrt())
            .collect();
        let x: Vec<f64> = (0..examples * inputs)
            .map(|_| rng.sample(StandardNormal))
            .collect();
        let mut y = vec![0.0; examples * outputs];
        for i in 0..examples {
            for o in 0..outputs {
                let clean: f64 = (0..inputs)
                    .map(|j| teacher[o * inputs + j] * x[i * inputs + j])
                    .sum();
                y[i * outputs + o] = clean + noise * rng.sample::<f64, _>(StandardNormal);
            }
        }
        TwoLayerLinear {
            inputs,
            hidden: hidden.min(MAX_WIDTH),
            outputs: outputs.min(MAX_WIDTH),
            x,
            y,
        }
    }

    fn split<'a>(&self, theta: &'a [f64]) -> (&'a [f64], &'a [f64]) {
        theta.split_at(self.hidden * self.inputs)
    }

    /// Residual `rᵢ = W₂W₁xᵢ − yᵢ` and hidden activity `W₁xᵢ` of example i, on the stack.
    fn forward(&self, theta: &[f64], i: usize) -> ([f64; MAX_WIDTH], [f64; MAX_WIDTH]) {
        let (w1, w2) = self.split(theta);
        let xi = &self.x[i * self.inputs..(i + 1) * self.inputs];
        let mut hidden = [0.0; MAX_WIDTH];
        for (h, row) in hidden.iter_mut().zip(w1.chunks_exact(self.inputs)) {
            *h = row.iter().zip(xi).map(|(w, x)| w * x).sum();
        }
        let mut residual = [0.0; MAX_WIDTH];
        for o in 0..self.outputs {
            let out: f64 = (0..self.hidden)
                .map(|k| w2[o * self.hidden + k] * hidden[k])
                .sum();
            residual[o] = out - self.y[i * self.outputs + o];
        }
        (residual, hidden)
    }

    fn accumulate(&self, theta: &[f64], examples: impl Iterator<Item = usize>, out: &mut [f64]) {
        out.iter_mut().for_each(|g| *g = 0.0);
        let (_, w2) = self.split(theta);
        let mut count = 0usize;
        for i in examples {
            count += 1;
            let (residual, hidden) = self.forward(theta, i);
            let xi = &self.x[i * self.inputs..(i + 1) * self.inputs];
            let (g1, g2) = out.split_at_mut(self.hidden * self.inputs);
            for k in 0..self.hidden {
                let back: f64 = (0..self.outputs)
                    .map(|o| w2[o * self.hidden + k] * residual[o])
                    .sum();
                for (g, x) in g1[k * self.inputs..(k + 1) * self.inputs]
                    .iter_mut()
                    .zip(xi)
                {
                    *g += back * x;
                }
            }
            for o in 0..self.outputs {
                for k in 0..self.hidden {
                    g2[o * self.hidden + k] += residual[o] * hidden[k];
                }
            }
        }
        let scale = 1.0 / count.max(1) as f64;
        out.iter_mut().for_each(|g| *g *= scale);
    }

    /// The curvature of the most negative Hessian direction at the saddle 0: the largest
    /// singular value of the input–output correlation `Σ_yx = (1/m) Σ yᵢxᵢᵀ` (the Hessian at
    /// 0 is `[[0, −Σ_yxᵀ⊗·], [·, 0]]`, whose eigenvalues are ± the singular values).
    pub fn saddle_negative_curvature(&self) -> f64 {
        let m = self.x.len() / self.inputs;
        let correlation = nalgebra::DMatrix::from_fn(self.outputs, self.inputs, |o, j| {
            (0..m)
                .map(|i| self.y[i * self.outputs + o] * self.x[i * self.inputs + j])
                .sum::<f64>()
                / m as f64
        });
        correlation
            .singular_values()
            .iter()
            .copied()
            .fold(0.0, f64::max)
    }
}

impl Objective for TwoLayerLinear {
    fn dimension(&self) -> usize {
        self.hidden * (self.inputs + self.outputs)
    }

    fn value(&self, theta: &[f64]) -> f64 {
        let m = self.x.len() / self.inputs;
        (0..m)
            .map(|i| {
                self.forward(theta, i).0[..self.outputs]
                    .iter()
                    .map(|r| r * r)
                    .sum::<f64>()
            })
            .sum::<f64>()
            / (2.0 * m as f64)
    }

    fn gradient(&self, theta: &[f64], out: &mut [f64]) {
        self.accumulate(theta, 0..self.x.len() / self.inputs, out);
    }

    fn examples(&self) -> usize {
        self.x.len() / self.inputs
    }

    fn batch_gradient(&self, theta: &[f64], batch: &[usize], out: &mut [f64]) {
        self.accumulate(theta, batch.iter().copied(), out);
    }
}

/// A chain of d strict saddles in the manner of S. S. Du, C. Jin, J. D. Lee, M. I. Jordan,
/// A. Singh & B. Póczos, "Gradient descent can take exponential time to escape saddle
/// points" (NeurIPS 2017, arXiv:1705.10412): a piecewise-quadratic caricature with the same
/// Hessian along the path. In region i (the first i − 1 coordinates have reached `|x_j| ≥ R`,
/// coordinate i has not) the gradient is `0` on the escaped coordinates, `−2γx_i` on
/// coordinate i and `2Lx_j` on the later ones, so GD multiplies `x_i` by `1 + 2ηγ` and
/// every later coordinate by `1 − 2ηL`. The chain is escaped when all d coordinates have.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SaddleChain {
    dimension: usize,
    gamma: f64,
    stiffness: f64,
    radius: f64,
}

impl SaddleChain {
    /// d saddles with negative curvature `−2γ`, positive `2L`, exit radius R.
    pub fn new(dimension: usize, gamma: f64, stiffness: f64, radius: f64) -> Self {
        SaddleChain {
            dimension,
            gamma,
            stiffness,
            radius,
        }
    }

    /// The current region: the number of leading coordinates already escaped.
    pub fn region(&self, x: &[f64]) -> usize {
        x.iter().take_while(|v| v.abs() >= self.radius).count()
    }

    /// Whether the whole chain has been escaped.
    pub fn escaped(&self, x: &[f64]) -> bool {
        self.region(x) == self.dimension
    }

    /// GD's exact exit time from the chain, computed in log space so that no coordinate can
    /// underflow: in region k the unstable coordinate starts at
    /// `ln|x_k| = ln|x_k(0)| + (Σ_{j<k} T_j)·ln(1 − 2ηL)` and needs
    /// `T_k = ⌈(ln R − ln|x_k|)/ln(1 + 2ηγ)⌉` steps. Starting from equal `|x_j(0)| = δ` this
    /// gives `T_k ≈ T_1 (1 + κ)^{k−1}` with `κ = −ln(1 − 2ηL)/ln(1 + 2ηγ)`: exponential in d.
    /// Returns the total as f64 (it can exceed u64) and `None` if a coordinate starts at 0.
    pub fn gd_exit_time_log_space(&self, start: &[f64], learning_rate: f64) -> Option<f64> {
        let growth = (1.0 + 2.0 * learning_rate * self.gamma).ln();
        let shrink = (1.0 - 2.0 * learning_rate * self.stiffness).abs().ln();
        let mut total = 0.0f64;
        for &x0 in start.iter().take(self.dimension) {
            if x0 == 0.0 {
                return None;
            }
            let ln_x = x0.abs().ln() + total * shrink;
            let steps = ((self.radius.ln() - ln_x) / growth).ceil().max(0.0);
            total += steps;
        }
        Some(total)
    }
}

impl Objective for SaddleChain {
    fn dimension(&self) -> usize {
        self.dimension
    }

    fn value(&self, x: &[f64]) -> f64 {
        let i = self.region(x);
        let escaped = -self.gamma * self.radius * self.radius * i as f64;
        let current = x.get(i).map_or(0.0, |v| -self.gamma * v * v);
        let later: f64 = x.iter().skip(i + 1).map(|v| self.stiffness * v * v).sum();
        escaped + current + later
    }

    fn gradient(&self, x: &[f64], out: &mut [f64]) {
        let i = self.region(x);
        for (j, (o, v)) in out.iter_mut().zip(x).enumerate() {
            *o = match j.cmp(&i) {
                std::cmp::Ordering::Less => 0.0,
                std::cmp::Ordering::Equal => -2.0 * self.gamma * v,
                std::cmp::Ordering::Greater => 2.0 * self.stiffness * v,
            };
        }
    }
}

/// Fills `x` with a random start of norm `scale` (Gaussian direction).
pub fn random_start<R: Rng + ?Sized>(x: &mut [f64], scale: f64, rng: &mut R) {
    x.iter_mut().for_each(|v| *v = rng.sample(StandardNormal));
    let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        x.iter_mut().for_each(|v| *v *= scale / norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::chunk_stream;
    use crate::optim::{Method, Optimizer, OptimizerConfig, Passage, first_passage, norm};

    #[test]
    fn linear_net_gradient_matches_finite_differences() {
        let mut rng = chunk_stream(1, "net", 0, 0);
        let net = TwoLayerLinear::teacher(3, 2, 2, 10, 0.1, &mut rng);
        let theta: Vec<f64> = (0..net.dimension())
            .map(|_| rng.sample::<f64, _>(StandardNormal))
            .collect();
        let mut g = vec![0.0; net.dimension()];
        net.gradient(&theta, &mut g);
        for k in 0..theta.len() {
            let (mut plus, mut minus) = (theta.clone(), theta.clone());
            plus[k] += 1e-6;
            minus[k] -= 1e-6;
            let numeric = (net.value(&plus) - net.value(&minus)) / 2e-6;
            assert!(
                (numeric - g[k]).abs() < 1e-6 * (1.0 + g[k].abs()),
                "{k}: {numeric} vs {}",
                g[k]
            );
        }
    }

    #[test]
    fn every_per_example_gradient_vanishes_at_the_zero_saddle() {
        let mut rng = chunk_stream(2, "net", 0, 0);
        let net = TwoLayerLinear::teacher(4, 4, 4, 32, 0.1, &mut rng);
        let zero = vec![0.0; net.dimension()];
        let mut g = vec![1.0; net.dimension()];
        for i in 0..net.examples() {
            net.batch_gradient(&zero, &[i], &mut g);
            assert!(g.iter().all(|&v| v == 0.0));
        }
        // And SGD with any batch size stays there forever.
        let config = OptimizerConfig {
            method: Method::Sgd { batch: 1 },
            learning_rate: 0.1,
            clip: None,
        };
        let mut sgd = Optimizer::new(config, net.dimension(), net.examples());
        let mut theta = zero.clone();
        assert_eq!(
            first_passage(
                &mut sgd,
                &net,
                &mut theta,
                10_000,
                &mut rng,
                crate::mc::Stop::NEVER,
                |t| norm(t) > 0.1
            ),
            Passage::Censored
        );
    }

    #[test]
    fn chain_gd_time_matches_simulation_before_underflow() {
        let chain = SaddleChain::new(4, 1.0, 1.0, 1.0);
        let start = [1e-3; 4];
        let eta = 0.1;
        let predicted = chain.gd_exit_time_log_space(&start, eta).unwrap();
        let config = OptimizerConfig {
            method: Method::Gd,
            learning_rate: eta,
            clip: None,
        };
        let mut gd = Optimizer::new(config, 4, 0);
        let mut x = start;
        let mut rng = chunk_stream(3, "chain", 0, 0);
        match first_passage(
            &mut gd,
            &chain,
            &mut x,
            1_000_000,
            &mut rng,
            crate::mc::Stop::NEVER,
            |x| chain.escaped(x),
        ) {
            Passage::Reached(t) => assert_eq!(t as f64, predicted),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn long_chains_underflow_in_f64() {
        // d = 12 from 1e-3 with η = 0.1, γ = L = 1: later coordinates shrink below 1e-308.
        let chain = SaddleChain::new(12, 1.0, 1.0, 1.0);
        let config = OptimizerConfig {
            method: Method::Gd,
            learning_rate: 0.1,
            clip: None,
        };
        let mut gd = Optimizer::new(config, 12, 0);
        let mut x = [1e-3; 12];
        let mut rng = chunk_stream(4, "chain", 0, 0);
        assert_eq!(
            first_passage(
                &mut gd,
                &chain,
                &mut x,
                10_000_000,
                &mut rng,
                crate::mc::Stop::NEVER,
                |x| chain.escaped(x)
            ),
            Passage::Underflow
        );
        // The log-space count follows T₁((1+κ)^d − 1)/κ, κ = ln 1.25/ln 1.2, up to the
        // rounding of each T_k to an integer: one step at saddle k grows into at most
        // (1+κ)^{d−k} steps later, a relative error of at most 1/T₁ in the total.
        let exact = chain.gd_exit_time_log_space(&[1e-3; 12], 0.1).unwrap();
        let (t1, kappa) = (
            (1000f64.ln() / 1.2f64.ln()).ceil(),
            1.25f64.ln() / 1.2f64.ln(),
        );
        let approximate = t1 * ((1.0 + kappa).powi(12) - 1.0) / kappa;
        assert!(
            (exact - approximate).abs() / approximate <= 1.0 / t1,
            "{exact} vs {approximate}"
        );
    }
}
