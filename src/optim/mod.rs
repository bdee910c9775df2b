//! Optimizers over any [`Objective`]: GD, SGD on real minibatches, GD with isotropic
//! Gaussian gradient noise, perturbed GD, heavy-ball momentum and Adam, each with optional
//! clipping by norm. One step never allocates; iterates that stop being normal numbers are
//! reported, never averaged in.

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use crate::landscape::Objective;
use crate::mc::{Stop, StreamRng};
use crate::stats::ZigguratNormal;
use rand::SeedableRng;

crate::choice! {
    /// An optimizer as parameter files and CSV columns name it; [`MethodSettings::method`]
    /// turns it into a [`Method`] with its settings. The one list of optimizer names every
    /// scenario uses.
    pub enum MethodName {
        /// Plain gradient descent.
        Gd = "gd",
        /// Gradient descent with isotropic Gaussian gradient noise.
        NoisyGd = "noisy-gd",
        /// Perturbed gradient descent (Jin et al. 2017).
        PerturbedGd = "perturbed-gd",
        /// Heavy-ball momentum.
        Momentum = "momentum",
        /// Adam.
        Adam = "adam",
        /// RMSProp.
        RmsProp = "rmsprop",
    }
}

/// The settings that turn a [`MethodName`] into a [`Method`]; a scenario fills in those of the
/// methods it runs and leaves the others at their defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MethodSettings {
    /// Noise scale σ of noisy GD.
    pub sigma: f64,
    /// Ball radius r of perturbed GD.
    pub perturbation_radius: f64,
    /// Gradient threshold g_thres of perturbed GD.
    pub perturbation_threshold: f64,
    /// Minimum steps between perturbations t_thres of perturbed GD.
    pub perturbation_interval: u64,
    /// Momentum β.
    pub momentum: f64,
    /// Adam's (β₁, β₂, ε).
    pub adam: (f64, f64, f64),
    /// RMSProp's (ρ, ε).
    pub rmsprop: (f64, f64),
}

impl Default for MethodSettings {
    /// σ = 0, r = 10⁻³, g_thres = 10⁻⁴, t_thres = 20, β = 0.9, Adam (0.9, 0.999, 10⁻⁸)
    /// (Kingma & Ba's defaults), RMSProp (0.9, 10⁻⁸) (Tieleman & Hinton's ρ).
    fn default() -> Self {
        MethodSettings {
            sigma: 0.0,
            perturbation_radius: 1e-3,
            perturbation_threshold: 1e-4,
            perturbation_interval: 20,
            momentum: 0.9,
            adam: (0.9, 0.999, 1e-8),
            rmsprop: (0.9, 1e-8),
        }
    }
}

impl MethodSettings {
    /// The update rule `name` with these settings.
    pub fn method(&self, name: MethodName) -> Method {
        match name {
            MethodName::Gd => Method::Gd,
            MethodName::NoisyGd => Method::NoisyGd { sigma: self.sigma },
            MethodName::PerturbedGd => Method::Perturbed {
                radius: self.perturbation_radius,
                gradient_threshold: self.perturbation_threshold,
                interval: self.perturbation_interval,
            },
            MethodName::Momentum => Method::Momentum {
                beta: self.momentum,
            },
            MethodName::Adam => Method::Adam {
                beta1: self.adam.0,
                beta2: self.adam.1,
                epsilon: self.adam.2,
            },
            MethodName::RmsProp => Method::RmsProp {
                rho: self.rmsprop.0,
                epsilon: self.rmsprop.1,
            },
        }
    }
}

/// Which update rule, with its settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// `x ← x − η∇f(x)`.
    Gd,
    /// `x ← x − η·(minibatch gradient)`: batches of `batch` examples drawn without
    /// replacement within an epoch (a fresh random permutation per epoch); `batch = m` is GD.
    Sgd {
        /// Batch size B.
        batch: usize,
    },
    /// `x ← x − η(∇f(x) + σξ)`, ξ standard normal in every coordinate.
    NoisyGd {
        /// Noise scale σ.
        sigma: f64,
    },
    /// Perturbed GD (C. Jin, R. Ge, P. Netrapalli, S. Kakade & M. I. Jordan, "How to escape
    /// saddle points efficiently", ICML 2017, Algorithm 2): when `‖∇f‖ < gradient_threshold`
    /// and at least `interval` steps have passed since the last perturbation, add a point
    /// drawn uniformly from the ball of radius `radius`.
    Perturbed {
        /// Ball radius r.
        radius: f64,
        /// g_thres.
        gradient_threshold: f64,
        /// t_thres.
        interval: u64,
    },
    /// Heavy ball (B. T. Polyak, 1964): `v ← βv − η∇f(x)`, `x ← x + v`.
    Momentum {
        /// Momentum β.
        beta: f64,
    },
    /// Adam (D. P. Kingma & J. Ba, ICLR 2015, Algorithm 1) with bias correction.
    Adam {
        /// β₁.
        beta1: f64,
        /// β₂.
        beta2: f64,
        /// ε.
        epsilon: f64,
    },
    /// RMSProp (T. Tieleman & G. Hinton, COURSERA *Neural Networks for Machine Learning*,
    /// lecture 6.5, 2012): `v ← ρv + (1 − ρ)g²`, `x ← x − η g/(√v + ε)`, no momentum, no bias
    /// correction.
    RmsProp {
        /// Decay ρ of the squared-gradient average.
        rho: f64,
        /// ε.
        epsilon: f64,
    },
}

/// A complete optimizer setting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimizerConfig {
    /// The update rule.
    pub method: Method,
    /// Learning rate η.
    pub learning_rate: f64,
    /// Clip the (stochastic) gradient to this norm before using it.
    pub clip: Option<f64>,
}

/// What became of the iterate after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    /// Every coordinate is a normal number or zero.
    Normal,
    /// A coordinate is NaN or infinite: the run diverged.
    NonFinite,
    /// A nonzero coordinate fell below `f64::MIN_POSITIVE` (subnormal): multiplicative
    /// dynamics can no longer resolve it, so results past this point are not trusted.
    Subnormal,
}

/// An optimizer bound to its state buffers, reused across steps (and across runs through
/// [`Optimizer::reset`]).
pub struct Optimizer {
    config: OptimizerConfig,
    gradient: Vec<f64>,
    first_moment: Vec<f64>,
    second_moment: Vec<f64>,
    steps: u64,
    last_perturbation: Option<u64>,
    order: Vec<usize>,
    cursor: usize,
    normal: ZigguratNormal,
    /// The second stream of noisy GD, reseeded from the caller's stream at each run's start.
    aux: Option<StreamRng>,
}

impl Optimizer {
    /// An optimizer for dimension `dimension` and (for SGD) `examples` data points.
    pub fn new(config: OptimizerConfig, dimension: usize, examples: usize) -> Self {
        Optimizer {
            config,
            gradient: vec![0.0; dimension],
            first_moment: vec![0.0; dimension],
            second_moment: vec![0.0; dimension],
            steps: 0,
            last_perturbation: None,
            order: (0..examples).collect(),
            cursor: examples,
            normal: ZigguratNormal::new(),
            aux: None,
        }
    }

    /// Changes the learning rate, keeping momentum, Adam moments and the epoch (a learning-rate
    /// drop in a schedule).
    pub fn set_learning_rate(&mut self, learning_rate: f64) {
        self.config.learning_rate = learning_rate;
    }

    /// The current learning rate.
    pub fn learning_rate(&self) -> f64 {
        self.config.learning_rate
    }

    /// Forgets momentum, Adam moments, the step count and the epoch.
    pub fn reset(&mut self) {
        self.first_moment.iter_mut().for_each(|v| *v = 0.0);
        self.second_moment.iter_mut().for_each(|v| *v = 0.0);
        self.steps = 0;
        self.last_perturbation = None;
        self.cursor = self.order.len();
        self.aux = None;
    }

    /// One step on `objective` from `x`, in place.
    pub fn step<F: Objective, R: Rng + ?Sized>(
        &mut self,
        objective: &F,
        x: &mut [f64],
        rng: &mut R,
    ) -> StepStatus {
        let eta = self.config.learning_rate;
        match self.config.method {
            Method::Sgd { batch } if !self.order.is_empty() => {
                let batch = batch.clamp(1, self.order.len());
                if self.cursor + batch > self.order.len() {
                    shuffle(&mut self.order, rng);
                    self.cursor = 0;
                }
                objective.batch_gradient(
                    x,
                    &self.order[self.cursor..self.cursor + batch],
                    &mut self.gradient,
                );
                self.cursor += batch;
            }
            _ => objective.gradient(x, &mut self.gradient),
        }
        if let (Method::NoisyGd { sigma }, None) = (self.config.method, self.config.clip) {
            // Fused noise and update: one pass, the hot loop of every escape experiment.
            self.steps += 1;
            // Two generators alternate (the caller's stream for even coordinates, a second
            // stream seeded from it at the run's first step for odd ones), so the two serial
            // chains of random draws overlap in the processor: 1.7× the draws per second.
            let normal = self.normal;
            let aux = self.aux.get_or_insert_with(|| StreamRng::from_rng(rng));
            let mut pairs = x.chunks_exact_mut(2);
            for (xs, gs) in (&mut pairs).zip(self.gradient.chunks_exact(2)) {
                let (a, b) = (normal.sample(rng), normal.sample(aux));
                xs[0] -= eta * (gs[0] + sigma * a);
                xs[1] -= eta * (gs[1] + sigma * b);
            }
            if let Some(last) = pairs.into_remainder().first_mut() {
                *last -=
                    eta * (self.gradient[self.gradient.len() - 1] + sigma * normal.sample(rng));
            }
            return status(x);
        }
        if let Method::NoisyGd { sigma } = self.config.method {
            let normal = self.normal;
            for g in self.gradient.iter_mut() {
                *g += sigma * normal.sample(rng);
            }
        }
        if let Some(limit) = self.config.clip {
            clip_to_norm(&mut self.gradient, limit);
        }
        self.steps += 1;
        match self.config.method {
            Method::Gd | Method::Sgd { .. } | Method::NoisyGd { .. } => {
                x.iter_mut()
                    .zip(&self.gradient)
                    .for_each(|(xi, g)| *xi -= eta * g);
            }
            Method::Perturbed {
                radius,
                gradient_threshold,
                interval,
            } => {
                let norm = norm(&self.gradient);
                let due = self
                    .last_perturbation
                    .is_none_or(|t| self.steps - t >= interval);
                if norm < gradient_threshold && due {
                    self.last_perturbation = Some(self.steps);
                    add_uniform_ball(x, radius, &mut self.first_moment, rng);
                }
                x.iter_mut()
                    .zip(&self.gradient)
                    .for_each(|(xi, g)| *xi -= eta * g);
            }
            Method::Momentum { beta } => {
                for ((xi, v), g) in x.iter_mut().zip(&mut self.first_moment).zip(&self.gradient) {
                    *v = beta * *v - eta * g;
                    *xi += *v;
                }
            }
            Method::Adam {
                beta1,
                beta2,
                epsilon,
            } => {
                let t = self.steps as i32;
                let (c1, c2) = (1.0 - beta1.powi(t), 1.0 - beta2.powi(t));
                for (((xi, m), v), g) in x
                    .iter_mut()
                    .zip(&mut self.first_moment)
                    .zip(&mut self.second_moment)
                    .zip(&self.gradient)
                {
                    *m = beta1 * *m + (1.0 - beta1) * g;
                    *v = beta2 * *v + (1.0 - beta2) * g * g;
                    *xi -= eta * (*m / c1) / ((*v / c2).sqrt() + epsilon);
                }
            }
            Method::RmsProp { rho, epsilon } => {
                for ((xi, v), g) in x
                    .iter_mut()
                    .zip(&mut self.second_moment)
                    .zip(&self.gradient)
                {
                    *v = rho * *v + (1.0 - rho) * g * g;
                    *xi -= eta * g / (v.sqrt() + epsilon);
                }
            }
        }
        status(x)
    }
}

/// Classifies an iterate: non-finite, subnormal, or normal.
pub fn status(x: &[f64]) -> StepStatus {
    let mut result = StepStatus::Normal;
    for &xi in x {
        if !xi.is_finite() {
            return StepStatus::NonFinite;
        }
        if xi != 0.0 && xi.abs() < f64::MIN_POSITIVE {
            result = StepStatus::Subnormal;
        }
    }
    result
}

/// Euclidean norm.
pub fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Scales `g` down to norm `limit` if it is longer (gradient clipping by norm; R. Pascanu,
/// T. Mikolov & Y. Bengio, ICML 2013).
pub fn clip_to_norm(g: &mut [f64], limit: f64) {
    let length = norm(g);
    if length > limit {
        let scale = limit / length;
        g.iter_mut().for_each(|x| *x *= scale);
    }
}

/// Adds to `x` a point uniform in the d-ball of radius `radius`: a Gaussian direction times
/// `radius·U^{1/d}` (Muller 1959). `scratch` holds the direction.
fn add_uniform_ball<R: Rng + ?Sized>(x: &mut [f64], radius: f64, scratch: &mut [f64], rng: &mut R) {
    for s in scratch.iter_mut() {
        *s = rng.sample(StandardNormal);
    }
    let length = norm(scratch);
    let u: f64 = rng.random();
    let scale = radius * u.powf(1.0 / x.len() as f64) / length;
    x.iter_mut()
        .zip(scratch.iter())
        .for_each(|(xi, s)| *xi += scale * s);
    scratch.iter_mut().for_each(|s| *s = 0.0);
}

/// Fisher–Yates shuffle.
fn shuffle<R: Rng + ?Sized>(items: &mut [usize], rng: &mut R) {
    for i in (1..items.len()).rev() {
        let j = rng.random_range(0..=i);
        items.swap(i, j);
    }
}

/// How a first-passage run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passage {
    /// The stopping condition held after this many steps.
    Reached(u64),
    /// The step budget ran out first (a censored observation).
    Censored,
    /// The iterate became NaN or infinite.
    Diverged,
    /// A coordinate underflowed to a subnormal number.
    Underflow,
    /// A stop was requested before the run ended: no observation.
    Stopped,
}

/// Steps between two looks at the stop request: often enough that a stop takes effect in
/// well under a millisecond, rarely enough to cost nothing.
pub const STEPS_PER_STOP_CHECK: u64 = 4096;

/// Runs `optimizer` from `x` until `reached(x)` or `budget` steps, or until `stop` is
/// requested (looked at every few thousand steps, so a huge budget never delays a stop).
pub fn first_passage<F: Objective, R: Rng + ?Sized>(
    optimizer: &mut Optimizer,
    objective: &F,
    x: &mut [f64],
    budget: u64,
    rng: &mut R,
    stop: Stop,
    reached: impl Fn(&[f64]) -> bool,
) -> Passage {
    if reached(x) {
        return Passage::Reached(0);
    }
    for t in 1..=budget {
        if t % STEPS_PER_STOP_CHECK == 1 && stop.requested() {
            return Passage::Stopped;
        }
        match optimizer.step(objective, x, rng) {
            StepStatus::NonFinite => return Passage::Diverged,
            StepStatus::Subnormal => return Passage::Underflow,
            StepStatus::Normal => {}
        }
        if reached(x) {
            return Passage::Reached(t);
        }
    }
    Passage::Censored
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::chunk_stream;

    /// f = ½ Σ cᵢ xᵢ².
    struct Quadratic(Vec<f64>);

    impl Objective for Quadratic {
        fn dimension(&self) -> usize {
            self.0.len()
        }
        fn value(&self, x: &[f64]) -> f64 {
            0.5 * x.iter().zip(&self.0).map(|(x, c)| c * x * x).sum::<f64>()
        }
        fn gradient(&self, x: &[f64], out: &mut [f64]) {
            out.iter_mut()
                .zip(x.iter().zip(&self.0))
                .for_each(|(o, (x, c))| *o = c * x);
        }
    }

    fn config(method: Method) -> OptimizerConfig {
        OptimizerConfig {
            method,
            learning_rate: 0.1,
            clip: None,
        }
    }

    /// RMSProp on a constant gradient g (the quadratic far from its minimum changes little):
    /// after k steps from v = 0, `v_k = (1 − ρ^k) g²`, so step k moves `η/√(1 − ρ^k)`
    /// (plus ε): its closed form reproduces the iterates to 10⁻¹².
    #[test]
    fn rmsprop_follows_its_closed_form_on_a_constant_gradient() {
        struct Linear;
        impl Objective for Linear {
            fn dimension(&self) -> usize {
                1
            }
            fn value(&self, x: &[f64]) -> f64 {
                3.0 * x[0]
            }
            fn gradient(&self, _: &[f64], out: &mut [f64]) {
                out[0] = 3.0;
            }
        }
        let (rho, epsilon) = (0.9, 1e-8);
        let mut optimizer = Optimizer::new(config(Method::RmsProp { rho, epsilon }), 1, 0);
        let mut x = [0.0];
        let mut expected = 0.0;
        let mut rng = chunk_stream(1, "rmsprop", 0, 0);
        for k in 1..=50 {
            optimizer.step(&Linear, &mut x, &mut rng);
            let v = (1.0 - rho.powi(k)) * 9.0;
            expected -= 0.1 * 3.0 / (v.sqrt() + epsilon);
            assert!(
                (x[0] - expected).abs() < 1e-12,
                "step {k}: {} vs {expected}",
                x[0]
            );
        }
    }

    #[test]
    fn gd_and_momentum_contract_a_quadratic_as_predicted() {
        let f = Quadratic(vec![2.0]);
        let mut rng = chunk_stream(1, "optim", 0, 0);
        let mut x = [1.0];
        let mut gd = Optimizer::new(config(Method::Gd), 1, 0);
        for _ in 0..10 {
            gd.step(&f, &mut x, &mut rng);
        }
        assert!((x[0] - 0.8f64.powi(10)).abs() < 1e-15);
        // Heavy ball on c = 2, η = 0.1, β = 0.5: x_{t+1} = 1.3 x_t − 0.5 x_{t−1}.
        let mut x = [1.0];
        let mut hb = Optimizer::new(config(Method::Momentum { beta: 0.5 }), 1, 0);
        let (mut a, mut b) = (1.0, 0.8);
        hb.step(&f, &mut x, &mut rng);
        assert!((x[0] - b).abs() < 1e-15);
        for _ in 0..10 {
            hb.step(&f, &mut x, &mut rng);
            (a, b) = (b, 1.3 * b - 0.5 * a);
        }
        assert!((x[0] - b).abs() < 1e-12);
    }

    #[test]
    fn adam_first_step_is_learning_rate_times_sign() {
        let f = Quadratic(vec![5.0, -3.0]);
        let mut rng = chunk_stream(1, "optim", 0, 0);
        let mut x = [1.0, 1.0];
        let mut adam = Optimizer::new(
            config(Method::Adam {
                beta1: 0.9,
                beta2: 0.999,
                epsilon: 1e-12,
            }),
            2,
            0,
        );
        adam.step(&f, &mut x, &mut rng);
        assert!((x[0] - 0.9).abs() < 1e-9 && (x[1] - 1.1).abs() < 1e-9);
    }

    #[test]
    fn clipping_and_status() {
        let mut g = [3.0, 4.0];
        clip_to_norm(&mut g, 1.0);
        assert!((norm(&g) - 1.0).abs() < 1e-15);
        assert_eq!(status(&[1.0, 0.0]), StepStatus::Normal);
        assert_eq!(status(&[1e-310]), StepStatus::Subnormal);
        assert_eq!(status(&[f64::NAN]), StepStatus::NonFinite);
    }

    #[test]
    fn divergence_is_reported() {
        // η·c = 3 > 2: GD oscillates with growing amplitude and overflows.
        let f = Quadratic(vec![30.0]);
        let mut rng = chunk_stream(1, "optim", 0, 0);
        let mut gd = Optimizer::new(config(Method::Gd), 1, 0);
        let mut x = [1.0];
        assert_eq!(
            first_passage(
                &mut gd,
                &f,
                &mut x,
                10_000,
                &mut rng,
                crate::mc::Stop::NEVER,
                |_| false
            ),
            Passage::Diverged
        );
    }

    #[test]
    fn perturbation_leaves_an_exact_saddle() {
        // f = ½(−x² + y²) from exactly 0: GD stays, perturbed GD leaves.
        let f = Quadratic(vec![-1.0, 1.0]);
        let mut rng = chunk_stream(2, "optim", 0, 0);
        let mut gd = Optimizer::new(config(Method::Gd), 2, 0);
        let mut x = [0.0, 0.0];
        assert_eq!(
            first_passage(
                &mut gd,
                &f,
                &mut x,
                1000,
                &mut rng,
                crate::mc::Stop::NEVER,
                |x| norm(x) > 1.0
            ),
            Passage::Censored
        );
        let perturbed = Method::Perturbed {
            radius: 0.01,
            gradient_threshold: 1e-3,
            interval: 10,
        };
        let mut pgd = Optimizer::new(config(perturbed), 2, 0);
        let mut x = [0.0, 0.0];
        assert!(matches!(
            first_passage(
                &mut pgd,
                &f,
                &mut x,
                1000,
                &mut rng,
                crate::mc::Stop::NEVER,
                |x| norm(x) > 1.0
            ),
            Passage::Reached(_)
        ));
    }
}
