//! Deep linear networks, the exactly solvable model of plateaus in deep learning:
//! A. M. Saxe, J. L. McClelland & S. Ganguli, "Exact solutions to the nonlinear dynamics of
//! learning in deep linear neural networks", ICLR 2014, arXiv:1312.6120.

use std::cell::RefCell;

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use super::Objective;

crate::choice! {
    /// How the weights start, all at the same per-layer gain `a = u₀^{1/D}`.
    pub enum Initialisation {
        /// Saxe et al.'s decoupled initial condition: `W₁ = a·r₁vᵀ`, `W_l = a·r_l r_{l−1}ᵀ`,
        /// `W_D = a·u r_{D−1}ᵀ` with random unit vectors `r_l`, so the product is `u₀·uvᵀ` and
        /// the teacher's mode follows the scalar dynamics exactly.
        Decoupled = "decoupled",
        /// Independent Gaussian entries `N(0, a²/n)` (the usual scaled random initialisation).
        Gaussian = "gaussian",
        /// `W_l = a·Q_l` with Haar-random orthogonal `Q_l` (Saxe et al. §3, a C9 remedy).
        Orthogonal = "orthogonal",
    }
}

/// A deep linear network `x ↦ W_D ⋯ W₁ x` with D square layers of width n, trained with the
/// squared loss `f = (1/2P) Σᵢ ‖W_D⋯W₁xᵢ − yᵢ‖²` on P examples from a rank-one teacher
/// `yᵢ = A xᵢ`, `A = s·uvᵀ` (u, v random unit vectors).
///
/// The inputs are whitened exactly, `(1/P) Σᵢ xᵢxᵢᵀ = I` (P/n blocks of `√n` times a random
/// orthogonal matrix), so the input–output correlation is `Σ₃₁ = A` with the single singular
/// value s, and the full-batch loss is `½‖W − A‖²_F` with `W = W_D⋯W₁`. Saxe et al. show the
/// modes of Σ₃₁ decouple, so a teacher with several singular values is several independent
/// copies of this one; the scenario sweeps s instead.
///
/// Gradient (exact, allocation-free after construction): with the error `E = (W − A)·C`
/// (`C = I` for the full batch, the batch's input correlation for a minibatch),
/// `∂f/∂W_l = (W_D⋯W_{l+1})ᵀ E (W_{l−1}⋯W₁)ᵀ`, computed by one forward pass of prefix
/// products and one backward pass, 3D n³ multiply-adds.
///
/// Parameters are `W₁, …, W_D`, each row-major n×n, concatenated.
#[derive(Debug)]
pub struct DeepLinearNet {
    width: usize,
    depth: usize,
    left: Vec<f64>,
    right: Vec<f64>,
    teacher: Vec<f64>,
    inputs: Vec<f64>,
    scratch: RefCell<Scratch>,
}

/// Work buffers reused by every gradient: prefix products `W_l⋯W₁` (l = 0..D, the first
/// being I), the error and two backward buffers.
#[derive(Debug)]
struct Scratch {
    prefix: Vec<f64>,
    error: Vec<f64>,
    back: Vec<f64>,
    spare: Vec<f64>,
}

impl DeepLinearNet {
    /// A random teacher of singular value `singular_value` and a whitened data set of
    /// `examples` inputs (rounded up to a multiple of `width`). Requires `depth ≥ 1`,
    /// `width ≥ 1`.
    pub fn teacher<R: Rng + ?Sized>(
        width: usize,
        depth: usize,
        singular_value: f64,
        examples: usize,
        rng: &mut R,
    ) -> Self {
        let n = width;
        let left = unit_vector(n, rng);
        let right = unit_vector(n, rng);
        let mut teacher = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                teacher[i * n + j] = singular_value * left[i] * right[j];
            }
        }
        let blocks = examples.div_ceil(n).max(1);
        let mut inputs = Vec::with_capacity(blocks * n * n);
        let scale = (n as f64).sqrt();
        for _ in 0..blocks {
            inputs.extend(random_orthogonal(n, rng).iter().map(|q| scale * q));
        }
        DeepLinearNet {
            width: n,
            depth,
            left,
            right,
            teacher,
            inputs,
            scratch: RefCell::new(Scratch {
                prefix: vec![0.0; (depth + 1) * n * n],
                error: vec![0.0; n * n],
                back: vec![0.0; n * n],
                spare: vec![0.0; n * n],
            }),
        }
    }

    /// Writes an initialisation of product scale `u0` (per-layer gain `u0^{1/D}`) into
    /// `theta`.
    pub fn initialise<R: Rng + ?Sized>(
        &self,
        init: Initialisation,
        u0: f64,
        theta: &mut [f64],
        rng: &mut R,
    ) {
        let (n, depth) = (self.width, self.depth);
        let gain = u0.powf(1.0 / depth as f64);
        match init {
            Initialisation::Decoupled => {
                let mut previous = self.right.clone();
                for (l, layer) in theta.chunks_exact_mut(n * n).enumerate() {
                    let next = if l + 1 == depth {
                        self.left.clone()
                    } else {
                        unit_vector(n, rng)
                    };
                    for i in 0..n {
                        for j in 0..n {
                            layer[i * n + j] = gain * next[i] * previous[j];
                        }
                    }
                    previous = next;
                }
            }
            Initialisation::Gaussian => {
                let sd = gain / (n as f64).sqrt();
                for w in theta.iter_mut() {
                    *w = sd * rng.sample::<f64, _>(StandardNormal);
                }
            }
            Initialisation::Orthogonal => {
                for layer in theta.chunks_exact_mut(n * n) {
                    for (w, q) in layer.iter_mut().zip(random_orthogonal(n, rng)) {
                        *w = gain * q;
                    }
                }
            }
        }
    }

    /// Strength of the teacher's mode in the network, `uᵀ W_D⋯W₁ v`.
    pub fn mode_strength(&self, theta: &[f64]) -> f64 {
        let n = self.width;
        let mut scratch = self.scratch.borrow_mut();
        self.forward(theta, &mut scratch.prefix);
        let product = &scratch.prefix[self.depth * n * n..];
        (0..n)
            .map(|i| {
                self.left[i]
                    * (0..n)
                        .map(|j| product[i * n + j] * self.right[j])
                        .sum::<f64>()
            })
            .sum()
    }

    /// Prefix products `W_l⋯W₁` for l = 0..D into `prefix` (l = 0 is the identity).
    fn forward(&self, theta: &[f64], prefix: &mut [f64]) {
        let n2 = self.width * self.width;
        let identity = &mut prefix[..n2];
        identity.iter_mut().for_each(|p| *p = 0.0);
        for i in 0..self.width {
            identity[i * self.width + i] = 1.0;
        }
        for l in 0..self.depth {
            let (done, rest) = prefix.split_at_mut((l + 1) * n2);
            multiply(
                &theta[l * n2..(l + 1) * n2],
                &done[l * n2..],
                &mut rest[..n2],
                self.width,
                Transpose::None,
            );
        }
    }

    /// Gradient from the prefix products and the error `E`, in place of `out`.
    fn backward(&self, theta: &[f64], scratch: &mut Scratch, out: &mut [f64]) {
        let (n, n2) = (self.width, self.width * self.width);
        let Scratch {
            prefix,
            error,
            back,
            spare,
        } = scratch;
        back.copy_from_slice(error);
        for l in (0..self.depth).rev() {
            // ∂f/∂W_{l+1} = (W_D⋯W_{l+2})ᵀ E (W_l⋯W₁)ᵀ = back · prefix_lᵀ.
            multiply(
                back,
                &prefix[l * n2..(l + 1) * n2],
                &mut out[l * n2..(l + 1) * n2],
                n,
                Transpose::Right,
            );
            if l > 0 {
                multiply(
                    &theta[l * n2..(l + 1) * n2],
                    back,
                    spare,
                    n,
                    Transpose::Left,
                );
                std::mem::swap(back, spare);
            }
        }
    }
}

impl Objective for DeepLinearNet {
    fn dimension(&self) -> usize {
        self.depth * self.width * self.width
    }

    /// `½‖W_D⋯W₁ − A‖²_F`, the loss on the whitened data set.
    fn value(&self, theta: &[f64]) -> f64 {
        let n2 = self.width * self.width;
        let mut scratch = self.scratch.borrow_mut();
        self.forward(theta, &mut scratch.prefix);
        let product = &scratch.prefix[self.depth * n2..];
        0.5 * product
            .iter()
            .zip(&self.teacher)
            .map(|(w, a)| (w - a) * (w - a))
            .sum::<f64>()
    }

    fn gradient(&self, theta: &[f64], out: &mut [f64]) {
        let n2 = self.width * self.width;
        let mut guard = self.scratch.borrow_mut();
        let scratch = &mut *guard;
        self.forward(theta, &mut scratch.prefix);
        let product = &scratch.prefix[self.depth * n2..];
        for ((e, w), a) in scratch.error.iter_mut().zip(product).zip(&self.teacher) {
            *e = w - a;
        }
        self.backward(theta, scratch, out);
    }

    fn examples(&self) -> usize {
        self.inputs.len() / self.width
    }

    /// Minibatch gradient: the error is `(1/|B|) Σ_{i∈B} rᵢxᵢᵀ` with `rᵢ = (W − A)xᵢ`.
    fn batch_gradient(&self, theta: &[f64], batch: &[usize], out: &mut [f64]) {
        let (n, n2) = (self.width, self.width * self.width);
        let mut guard = self.scratch.borrow_mut();
        let scratch = &mut *guard;
        self.forward(theta, &mut scratch.prefix);
        let Scratch {
            prefix,
            error,
            spare,
            ..
        } = scratch;
        // spare = W − A, then error = (1/|B|) Σ (W − A)xᵢxᵢᵀ.
        for ((d, w), a) in spare
            .iter_mut()
            .zip(&prefix[self.depth * n2..])
            .zip(&self.teacher)
        {
            *d = w - a;
        }
        error.iter_mut().for_each(|e| *e = 0.0);
        let weight = 1.0 / batch.len().max(1) as f64;
        for &i in batch {
            let x = &self.inputs[i * n..(i + 1) * n];
            for row in 0..n {
                let r: f64 = spare[row * n..(row + 1) * n]
                    .iter()
                    .zip(x)
                    .map(|(d, x)| d * x)
                    .sum();
                for (e, x) in error[row * n..(row + 1) * n].iter_mut().zip(x) {
                    *e += weight * r * x;
                }
            }
        }
        self.backward(theta, scratch, out);
    }
}

/// Which factor of a product is transposed.
#[derive(Clone, Copy)]
enum Transpose {
    None,
    Left,
    Right,
}

/// `out = op(a)·op(b)` for n×n row-major matrices.
fn multiply(a: &[f64], b: &[f64], out: &mut [f64], n: usize, transpose: Transpose) {
    for i in 0..n {
        for j in 0..n {
            let mut sum = 0.0;
            for k in 0..n {
                sum += match transpose {
                    Transpose::None => a[i * n + k] * b[k * n + j],
                    Transpose::Left => a[k * n + i] * b[k * n + j],
                    Transpose::Right => a[i * n + k] * b[j * n + k],
                };
            }
            out[i * n + j] = sum;
        }
    }
}

/// A uniformly random unit vector in ℝⁿ (normalised Gaussian).
fn unit_vector<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Vec<f64> {
    let v: Vec<f64> = (0..n).map(|_| rng.sample(StandardNormal)).collect();
    let length = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.into_iter().map(|x| x / length).collect()
}

/// A Haar-random n×n orthogonal matrix, row-major: QR of a Gaussian matrix with the signs of
/// R's diagonal moved into Q (F. Mezzadri, *Notices AMS* 54, 592, 2007).
fn random_orthogonal<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Vec<f64> {
    let gaussian = nalgebra::DMatrix::<f64>::from_fn(n, n, |_, _| rng.sample(StandardNormal));
    let qr = gaussian.qr();
    let (mut q, r) = (qr.q(), qr.r());
    for j in 0..n {
        if r[(j, j)] < 0.0 {
            q.column_mut(j).neg_mut();
        }
    }
    let mut rows = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            rows[i * n + j] = q[(i, j)];
        }
    }
    rows
}

/// Saxe et al.'s continuous-time learning time of one mode, in GD steps (τ = 1/η): the time
/// for the mode strength to grow from `u0` to `target` under
/// `τ du/dt = D·u^{2−2/D}(s − u)` (balanced layers; their eq. 7 for D = 2, §4 for D > 2).
///
/// - D = 2 (their eq. 11): `t = (τ/(2s))·ln[u_f(s − u₀)/(u₀(s − u_f))]`, logarithmic in 1/u₀;
/// - D ≥ 3: `t = (τ/D) ∫_{u₀}^{u_f} du / (u^{2−2/D}(s − u))`, evaluated by Simpson's rule in
///   ln u (4096 panels). As u₀ → 0 it grows like `τ·u₀^{−(1−2/D)} / (s(D − 2))` (their eq. 15:
///   a power law, so deep networks sit on far longer plateaus from small initialisations).
///
/// Requires `0 < u0 < target < s`; otherwise NaN.
///
/// ```
/// use stuck::landscape::saxe_learning_steps;
/// // Two layers, s = 1, from 10⁻³ to 1/2 with η = 0.01: 50·ln(999) steps.
/// let t = saxe_learning_steps(2, 1.0, 1e-3, 0.5, 0.01);
/// assert!((t - 50.0 * 999f64.ln()).abs() < 1e-9);
/// ```
pub fn saxe_learning_steps(depth: usize, s: f64, u0: f64, target: f64, learning_rate: f64) -> f64 {
    if !(0.0 < u0 && u0 < target && target < s) {
        return f64::NAN;
    }
    let tau = 1.0 / learning_rate;
    let d = depth as f64;
    if depth == 2 {
        return tau / (2.0 * s) * (target * (s - u0) / (u0 * (s - target))).ln();
    }
    // u = e^v: du / (u^{2−2/D}(s − u)) = e^{v(2/D − 1)} / (s − e^v) dv.
    let integrand = |v: f64| (v * (2.0 / d - 1.0)).exp() / (s - v.exp());
    let (a, b) = (u0.ln(), target.ln());
    let panels = 4096;
    let h = (b - a) / panels as f64;
    let mut sum = integrand(a) + integrand(b);
    for k in 1..panels {
        sum += integrand(a + k as f64 * h) * if k % 2 == 1 { 4.0 } else { 2.0 };
    }
    tau / d * sum * h / 3.0
}

/// GD on the decoupled network is exactly the scalar recursion of one layer strength,
/// `a ← a + η·a^{D−1}(s − a^D)` from `a = u₀^{1/D}` (all layers equal; the mode strength is
/// `u = a^D`). Returns the number of steps until `½(s − u)² ≤ level`, or `None` within
/// `budget`: the discrete-time counterpart of [`saxe_learning_steps`].
///
/// ```
/// use stuck::landscape::{saxe_learning_steps, decoupled_gd_steps};
/// // Small steps approach the continuous-time formula.
/// let discrete = decoupled_gd_steps(3, 1.0, 1e-3, 0.125, 1e-3, 1 << 30).unwrap() as f64;
/// let continuous = saxe_learning_steps(3, 1.0, 1e-3, 0.5, 1e-3);
/// assert!((discrete / continuous - 1.0).abs() < 0.01);
/// ```
pub fn decoupled_gd_steps(
    depth: usize,
    s: f64,
    u0: f64,
    level: f64,
    learning_rate: f64,
    budget: u64,
) -> Option<u64> {
    let exponent = depth as i32;
    let mut a = u0.powf(1.0 / depth as f64);
    for t in 0..=budget {
        let u = a.powi(exponent);
        if 0.5 * (s - u) * (s - u) <= level {
            return Some(t);
        }
        a += learning_rate * a.powi(exponent - 1) * (s - u);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::chunk_stream;
    use crate::optim::{Method, Optimizer, OptimizerConfig, Passage, first_passage};

    #[test]
    fn gradient_matches_finite_differences() {
        let mut rng = chunk_stream(3, "deep-linear", 0, 0);
        for depth in [1, 2, 3, 4] {
            let net = DeepLinearNet::teacher(3, depth, 2.0, 12, &mut rng);
            let mut theta = vec![0.0; net.dimension()];
            net.initialise(Initialisation::Gaussian, 0.5, &mut theta, &mut rng);
            let mut grad = vec![0.0; theta.len()];
            net.gradient(&theta, &mut grad);
            for k in 0..theta.len() {
                let h = 1e-6;
                let mut plus = theta.clone();
                plus[k] += h;
                let mut minus = theta.clone();
                minus[k] -= h;
                let numeric = (net.value(&plus) - net.value(&minus)) / (2.0 * h);
                assert!((numeric - grad[k]).abs() < 1e-7, "D={depth} k={k}");
            }
            // The whole data set as one batch is the full gradient (the inputs are whitened).
            let all: Vec<usize> = (0..net.examples()).collect();
            let mut batch = vec![0.0; theta.len()];
            net.batch_gradient(&theta, &all, &mut batch);
            for (b, g) in batch.iter().zip(&grad) {
                assert!((b - g).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn decoupled_network_follows_the_scalar_recursion_exactly() {
        let mut rng = chunk_stream(4, "deep-linear", 0, 0);
        for depth in [2, 3, 4, 16] {
            let (s, u0, eta) = (1.5, 1e-3, 0.05);
            let level = s * s / 8.0;
            let net = DeepLinearNet::teacher(4, depth, s, 16, &mut rng);
            let mut theta = vec![0.0; net.dimension()];
            net.initialise(Initialisation::Decoupled, u0, &mut theta, &mut rng);
            assert!((net.mode_strength(&theta) - u0).abs() < 1e-15);
            let config = OptimizerConfig {
                method: Method::Gd,
                learning_rate: eta,
                clip: None,
            };
            let mut gd = Optimizer::new(config, theta.len(), 0);
            let passage = first_passage(
                &mut gd,
                &net,
                &mut theta,
                1 << 20,
                &mut rng,
                crate::mc::Stop::NEVER,
                |x| net.value(x) <= level,
            );
            let scalar = decoupled_gd_steps(depth, s, u0, level, eta, 1 << 20).unwrap();
            let Passage::Reached(steps) = passage else {
                panic!("{passage:?}")
            };
            // Rounding differs between the matrix and scalar forms; the crossing step may
            // move by one only if the loss lands within rounding of the level.
            assert!(
                steps.abs_diff(scalar) <= 1,
                "D={depth}: {steps} vs {scalar}"
            );
        }
    }

    #[test]
    fn discrete_dynamics_converge_to_the_continuous_formula_at_first_order() {
        // Euler's method: the relative error of the hitting time is O(η), so halving η
        // halves it (ratio 1/2 up to O(η) corrections).
        for depth in [2, 3, 5] {
            let error = |eta: f64| {
                let discrete = decoupled_gd_steps(depth, 1.0, 1e-2, 0.125, eta, 1 << 32).unwrap();
                discrete as f64 / saxe_learning_steps(depth, 1.0, 1e-2, 0.5, eta) - 1.0
            };
            let (coarse, fine) = (error(2e-3), error(1e-3));
            assert!(coarse.abs() < 0.02, "D={depth}: {coarse}");
            let ratio = fine / coarse;
            assert!((ratio - 0.5).abs() < 0.1, "D={depth}: ratio {ratio}");
        }
    }

    #[test]
    fn deep_plateaus_follow_the_power_law_of_eq_15() {
        // For D ≥ 3, t·u₀^{1−2/D}·η·s(D−2) → 1 as u₀ → 0.
        for depth in [3, 4, 6] {
            let d = depth as f64;
            let scaled = |u0: f64| {
                saxe_learning_steps(depth, 1.0, u0, 0.5, 1.0) * u0.powf(1.0 - 2.0 / d) * (d - 2.0)
            };
            let (a, b) = (scaled(1e-6), scaled(1e-10));
            assert!((b - 1.0).abs() < (a - 1.0).abs() && (b - 1.0).abs() < 0.02);
        }
    }

    #[test]
    fn random_orthogonal_is_orthogonal() {
        let mut rng = chunk_stream(5, "deep-linear", 0, 0);
        let q = random_orthogonal(5, &mut rng);
        for i in 0..5 {
            for j in 0..5 {
                let dot: f64 = (0..5).map(|k| q[i * 5 + k] * q[j * 5 + k]).sum();
                assert!((dot - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
    }
}
