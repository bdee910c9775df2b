//! The studies of `remedies`: a landscape, the arms run on it from each replicate's one seed,
//! and how one arm runs.

use rand::{RngExt, SeedableRng};

use super::records::{ArmRun, EndCurvature, Failure};
use crate::landscape::{
    DeepLinearNet, DegenerateLoss, DegenerateTerrain, Initialisation, Objective, RecurrentCliff,
    Shelf, SoftCommittee,
};
use crate::mc::{Stop, StreamRng};
use crate::nets::{Dataset, Loss, Mlp, NetObjective};
use crate::optim::{
    MethodName, MethodSettings, Optimizer, OptimizerConfig, STEPS_PER_STOP_CHECK, StepStatus,
};

/// The remedies the essay names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// Start away from the danger.
    Initialisation,
    /// Clip the gradient on a cliff.
    Clipping,
    /// Let the optimizer adapt its steps.
    AdaptiveSteps,
    /// Normalise every hidden layer's pre-activations over the batch.
    BatchNorm,
    /// A loss without flat regions: cross-entropy instead of squared error on saturating
    /// (softmax) outputs.
    LossDesign,
}

impl Remedy {
    /// Kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Remedy::Initialisation => "initialisation",
            Remedy::Clipping => "clipping",
            Remedy::AdaptiveSteps => "adaptive-steps",
            Remedy::BatchNorm => "batch-norm",
            Remedy::LossDesign => "loss-design",
        }
    }
}

/// Where a study runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landscape {
    /// A deep linear network learning a rank-one teacher (Saxe et al. 2014).
    DeepLinear,
    /// A one-hidden-layer tanh network on the UCI digits.
    DigitsMlp,
    /// Pascanu et al.'s one-unit recurrent network.
    Cliff,
    /// The synthetic shelf of `plateau-crossing`.
    Shelf,
    /// The half trap of `degenerate-trap`.
    HalfTrap,
    /// The soft committee machine's population loss (Saad & Solla 1995), crossed by GD.
    Committee,
}

impl Landscape {
    /// Kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Landscape::DeepLinear => "deep-linear",
            Landscape::DigitsMlp => "digits-mlp",
            Landscape::Cliff => "cliff",
            Landscape::Shelf => "shelf",
            Landscape::HalfTrap => "half-trap",
            Landscape::Committee => "committee",
        }
    }
}

/// How an arm starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Start {
    /// The landscape's standard start (its own stated point or law).
    Standard,
    /// Deep linear layers `W_l = a·Q_l`, Q Haar-orthogonal, product scale u₀.
    Orthogonal(f64),
    /// Deep linear Gaussian layers `N(0, a²/n)`, product scale u₀.
    Gaussian(f64),
    /// Network weights `N(0, gain²/fan_in)`.
    Gain(f64),
    /// Committee student weights `N(0, q₀/N)`, so that every unit's `Qᵢᵢ ≈ q₀`.
    Norm(f64),
}

/// How the gradient is clipped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Clip {
    /// Not at all.
    None,
    /// To norm c (Pascanu et al. 2013, Algorithm 1).
    Norm(f64),
    /// Each component to `[−c, c]`.
    Value(f64),
}

/// One arm of a study: an optimizer, a learning rate, a start and a clipping rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arm {
    /// The optimizer.
    pub method: MethodName,
    /// Its learning rate.
    pub learning_rate: f64,
    /// Its start.
    pub start: Start,
    /// Its clipping.
    pub clip: Clip,
    /// Batch normalisation after every hidden layer (the digits network only).
    pub batch_norm: bool,
    /// The training loss (the digits network only).
    pub loss: Loss,
}

impl Arm {
    /// A label for tables: method, rate, start, clipping and normalisation.
    pub fn label(&self) -> String {
        let group = self.group();
        let (method, rest) = group.split_once(' ').unwrap_or((&group, ""));
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(" {rest}")
        };
        format!("{method} eta={}{rest}", self.learning_rate)
    }

    /// The label without the learning rate: arms of one group differ only in their rate, and
    /// "each at its best rate" compares the best arm of one group with the best of another.
    pub fn group(&self) -> String {
        let start = match self.start {
            Start::Standard => String::new(),
            Start::Orthogonal(u) => format!(" orthogonal u0={u}"),
            Start::Gaussian(u) => format!(" gaussian u0={u}"),
            Start::Gain(g) => format!(" gain={g}"),
            Start::Norm(q) => format!(" q0={q}"),
        };
        let clip = match self.clip {
            Clip::None => String::new(),
            Clip::Norm(c) => format!(" norm-clip={c}"),
            Clip::Value(c) => format!(" value-clip={c}"),
        };
        let normalised = if self.batch_norm { " batch-norm" } else { "" };
        let loss = if self.loss == Loss::CrossEntropy {
            String::new()
        } else {
            format!(" loss={}", self.loss)
        };
        format!("{}{start}{clip}{normalised}{loss}", self.method)
    }
}

/// A remedy tried on a landscape: the arms, and which pairs are compared (remedy arm,
/// arm without it).
#[derive(Debug, Clone, PartialEq)]
pub struct Study {
    /// The remedy.
    pub remedy: Remedy,
    /// The landscape.
    pub landscape: Landscape,
    /// The arms; every replicate runs all of them from its one seed.
    pub arms: Vec<Arm>,
    /// (with, without) arm indices of each comparison.
    pub comparisons: Vec<(usize, usize)>,
    /// (with, without) arm groups ([`Arm::group`]) compared each at its best rate.
    pub best_rate_comparisons: Vec<(String, String)>,
    /// Step budget of each run.
    pub budget: u64,
    /// Replicates.
    pub replicates: u64,
}

/// The landscapes' settings, from the parameter file.
#[derive(Debug, Clone, PartialEq)]
pub struct Landscapes {
    /// Deep linear: width, depth, teacher singular value s, examples.
    pub deep: (usize, usize, f64, usize),
    /// The digits subset the network trains on.
    pub digits: Dataset,
    /// Hidden width of the digits network.
    pub hidden: usize,
    /// Target loss of the digits network.
    pub mlp_target: f64,
    /// The training accuracy the loss-design study's arms must reach.
    pub accuracy_target: f64,
    /// Its target in the batch-normalisation study (lower: the largest stable rate shows
    /// only on the way down).
    pub bn_target: f64,
    /// The one-unit recurrent network.
    pub cliff: RecurrentCliff,
    /// Its initial (w, b) box.
    pub cliff_box: ((f64, f64), (f64, f64)),
    /// Its target loss.
    pub cliff_target: f64,
    /// Loss rise factor that counts as a cliff jump.
    pub jump_factor: f64,
    /// The shelf (start at 5 % of its width, target its far edge).
    pub shelf: Shelf,
    /// The half trap's slope c.
    pub trap_slope: f64,
    /// The committee: input dimension N and units K = M.
    pub committee: (usize, usize),
    /// The committee's target generalisation error.
    pub committee_level: f64,
    /// Momentum β for every momentum arm.
    pub momentum: f64,
    /// ε of batch normalisation.
    pub batch_norm_epsilon: f64,
    /// The learning rate at which the batch-normalisation study measures the Hessian where
    /// its runs reach the target.
    pub curvature_rate: f64,
}

/// The trap's position on the half trap, as in `degenerate-trap`.
const TRAP: f64 = 1.0;

impl Landscapes {
    /// Runs every arm of `study` once from one seed drawn from `rng`.
    pub fn replicate(&self, study: &Study, rng: &mut StreamRng, stop: Stop) -> Vec<ArmRun> {
        let seed: u64 = rng.random();
        study
            .arms
            .iter()
            .map(|arm| {
                // Every arm draws its landscape, start and noise from the same seed.
                let mut arm_rng = StreamRng::seed_from_u64(seed);
                self.run(study, arm, &mut arm_rng, stop)
            })
            .collect()
    }

    fn run(&self, study: &Study, arm: &Arm, rng: &mut StreamRng, stop: Stop) -> ArmRun {
        let method = MethodSettings {
            momentum: self.momentum,
            ..MethodSettings::default()
        }
        .method(arm.method);
        let config = OptimizerConfig {
            method,
            learning_rate: arm.learning_rate,
            clip: match arm.clip {
                Clip::Norm(c) => Some(c),
                _ => None,
            },
        };
        let arm_runner = ArmRunner {
            config,
            budget: study.budget,
            stop,
        };
        match study.landscape {
            Landscape::DeepLinear => {
                let (width, depth, s, examples) = self.deep;
                let net = DeepLinearNet::teacher(width, depth, s, examples, rng);
                let mut theta = vec![0.0; net.dimension()];
                let (init, u0) = match arm.start {
                    Start::Orthogonal(u) => (Initialisation::Orthogonal, u),
                    Start::Gaussian(u) => (Initialisation::Gaussian, u),
                    _ => (Initialisation::Gaussian, 1.0),
                };
                net.initialise(init, u0, &mut theta, rng);
                let target = s / 2.0;
                let watch = Watch::none();
                arm_runner.run(&net, &mut theta, rng, &watch, |x| {
                    net.mode_strength(x) >= target
                })
            }
            Landscape::DigitsMlp => {
                let plain = Mlp::new(
                    &[self.digits.features, self.hidden, self.digits.classes],
                    crate::nets::Activation::Tanh,
                    arm.loss,
                    0.0,
                );
                // The weights are drawn in the same order with and without normalisation, so
                // paired arms start from the same weights.
                let net = if arm.batch_norm {
                    plain.with_batch_norm(self.batch_norm_epsilon)
                } else {
                    plain
                };
                let gain = match arm.start {
                    Start::Gain(g) => g,
                    _ => 1.0,
                };
                let mut theta = net.initialise(gain, rng);
                let objective = NetObjective::new(&net, &self.digits);
                // The losses of the loss-design arms differ, so their target is the training
                // accuracy; every other study's is a loss.
                let accuracy = study.remedy == Remedy::LossDesign;
                let loss_target = if study.remedy == Remedy::BatchNorm {
                    self.bn_target
                } else {
                    self.mlp_target
                };
                let workspace = std::cell::RefCell::new(net.workspace(self.digits.examples()));
                let reached = |x: &[f64]| {
                    if accuracy {
                        net.accuracy(x, &self.digits, &mut workspace.borrow_mut(), None)
                            >= self.accuracy_target
                    } else {
                        objective.value(x) <= loss_target
                    }
                };
                let mut run = arm_runner.run(&objective, &mut theta, rng, &Watch::none(), reached);
                if study.remedy == Remedy::BatchNorm
                    && arm.learning_rate == self.curvature_rate
                    && !run.failed()
                {
                    run.curvature = end_curvature(&net, &self.digits, &theta);
                }
                run
            }
            Landscape::Cliff => {
                let ((w0, w1), (b0, b1)) = self.cliff_box;
                let mut theta = vec![rng.random_range(w0..w1), rng.random_range(b0..b1)];
                let objective = ValueClipped {
                    inner: self.cliff,
                    limit: match arm.clip {
                        Clip::Value(c) => c,
                        _ => f64::INFINITY,
                    },
                };
                let watch = Watch {
                    jump_factor: Some(self.jump_factor),
                };
                let target = self.cliff_target;
                let mut run = arm_runner.run(&objective, &mut theta, rng, &watch, |x| {
                    self.cliff.value(x) <= target
                });
                if run.failed() && theta.iter().all(|t| t.is_finite()) {
                    run.unstable = arm.learning_rate * self.cliff.curvature(&theta) > 2.0;
                }
                run
            }
            Landscape::Shelf => {
                let shelf = self.shelf;
                let mut x = vec![0.0; shelf.dimension];
                x[0] = 0.05 * shelf.width;
                arm_runner.run(&shelf, &mut x, rng, &Watch::none(), |x| x[0] >= shelf.width)
            }
            Landscape::HalfTrap => {
                let terrain = DegenerateTerrain {
                    loss: DegenerateLoss::HalfTrap {
                        c: self.trap_slope,
                        trap: TRAP,
                    },
                    dimension: 1,
                };
                let mut x = vec![TRAP - 1.0];
                arm_runner.run(&terrain, &mut x, rng, &Watch::none(), |x| {
                    x[0] >= TRAP + 1.0
                })
            }
            Landscape::Committee => {
                let (inputs, units) = self.committee;
                let q0 = match arm.start {
                    Start::Norm(q) => q,
                    _ => 1.0,
                };
                let machine = SoftCommittee::new(inputs, units, units, q0, rng);
                let (loss, mut x) = machine.population_loss();
                let level = self.committee_level;
                arm_runner.run(&loss, &mut x, rng, &Watch::none(), |x| {
                    loss.value(x) <= level
                })
            }
        }
    }
}

/// λ_max, the outliers and the gradient's top-k share of the dense Hessian at `theta`;
/// `None` if the eigendecomposition fails or the gradient vanishes.
fn end_curvature(net: &Mlp, data: &Dataset, theta: &[f64]) -> Option<EndCurvature> {
    let p = theta.len();
    let mut gradient = vec![0.0; p];
    net.loss_and_gradient(
        theta,
        data,
        &mut net.workspace(data.examples()),
        &mut gradient,
    );
    let hessian = crate::nets::dense_hessian(net, theta, data);
    let audit =
        crate::nets::audit_curvature(&hessian, p, &gradient, data.classes, crate::audit::TAU)?;
    Some(EndCurvature {
        lambda_max: audit.spectrum.max(),
        outliers: audit.spectrum.outliers(4 * data.classes) as u32,
        top_share: audit.shares.top,
    })
}

/// What a run watches beyond its target.
struct Watch {
    /// Count steps whose loss exceeds the previous one by this factor.
    jump_factor: Option<f64>,
}

impl Watch {
    fn none() -> Self {
        Watch { jump_factor: None }
    }
}

/// A loss whose gradient is clipped component-wise to `[−limit, limit]` (value clipping).
struct ValueClipped<F> {
    inner: F,
    limit: f64,
}

impl<F: Objective> Objective for ValueClipped<F> {
    fn dimension(&self) -> usize {
        self.inner.dimension()
    }

    fn value(&self, x: &[f64]) -> f64 {
        self.inner.value(x)
    }

    fn gradient(&self, x: &[f64], out: &mut [f64]) {
        self.inner.gradient(x, out);
        out.iter_mut()
            .for_each(|g| *g = g.clamp(-self.limit, self.limit));
    }
}

/// How every arm of a replicate runs: its optimizer settings, step budget and stop signal.
struct ArmRunner<'a> {
    config: OptimizerConfig,
    budget: u64,
    stop: Stop<'a>,
}

impl ArmRunner<'_> {
    /// Runs one arm from `x` until `reached`, the budget, a divergence or a stop; `x` ends at the
    /// last finite iterate (a diverged step is undone, so the curvature there can be read).
    fn run<F: Objective>(
        &self,
        objective: &F,
        x: &mut [f64],
        rng: &mut StreamRng,
        watch: &Watch,
        reached: impl Fn(&[f64]) -> bool,
    ) -> ArmRun {
        let (config, budget, stop) = (self.config, self.budget, self.stop);
        let mut run = ArmRun {
            steps: None,
            failure: Some(Failure::Censored),
            jumps: 0,
            unstable: false,
            curvature: None,
        };
        if reached(x) {
            return ArmRun {
                steps: Some(0),
                failure: None,
                ..run
            };
        }
        let mut optimizer = Optimizer::new(config, x.len(), objective.examples());
        let mut previous_loss = watch.jump_factor.map(|_| objective.value(x));
        let mut last = x.to_vec();
        for t in 1..=budget {
            if t % STEPS_PER_STOP_CHECK == 1 && stop.requested() {
                break;
            }
            last.copy_from_slice(x);
            match optimizer.step(objective, x, rng) {
                StepStatus::NonFinite => {
                    x.copy_from_slice(&last);
                    run.failure = Some(Failure::Diverged);
                    return run;
                }
                StepStatus::Subnormal => {
                    run.failure = Some(Failure::Underflow);
                    return run;
                }
                StepStatus::Normal => {}
            }
            if let (Some(factor), Some(before)) = (watch.jump_factor, previous_loss) {
                let now = objective.value(x);
                run.jumps += u32::from(now > factor * before);
                previous_loss = Some(now);
            }
            if reached(x) {
                run.steps = Some(t);
                run.failure = None;
                return run;
            }
        }
        run
    }
}
