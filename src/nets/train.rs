//! Training a network on its data with the suite's optimizers, and the rule that decides
//! when training "looks converged": the moment at which C6 asks whether the end point is a
//! critical point.

use std::cell::RefCell;

use super::audit::layer_gradients;
use super::data::Dataset;
use super::mlp::{Mlp, Workspace};
use crate::landscape::Objective;
use crate::mc::StreamRng;
use crate::optim::{Method, Optimizer, OptimizerConfig, StepStatus, norm};

/// A network's loss on its training set as an [`Objective`] for [`crate::optim`]: the full
/// batch for `gradient`, real minibatches (the examples named by the optimizer, without
/// replacement within an epoch) for `batch_gradient`. The workspaces live in `RefCell`s
/// because `Objective` takes `&self`; one objective belongs to one worker.
pub struct NetObjective<'a> {
    net: &'a Mlp,
    data: &'a Dataset,
    full: RefCell<Workspace>,
    batch: RefCell<Option<(Dataset, Workspace)>>,
}

impl<'a> NetObjective<'a> {
    /// The objective of `net` on `data`.
    pub fn new(net: &'a Mlp, data: &'a Dataset) -> Self {
        NetObjective {
            net,
            data,
            full: RefCell::new(net.workspace(data.examples())),
            batch: RefCell::new(None),
        }
    }

    /// The full-batch loss and gradient, with the workspace left ready for
    /// [`Mlp::hessian_vector`].
    pub fn loss_and_gradient(&self, x: &[f64], out: &mut [f64]) -> f64 {
        self.net
            .loss_and_gradient(x, self.data, &mut self.full.borrow_mut(), out)
    }
}

impl Objective for NetObjective<'_> {
    fn dimension(&self) -> usize {
        self.net.parameters()
    }

    fn value(&self, x: &[f64]) -> f64 {
        self.net.loss(x, self.data, &mut self.full.borrow_mut())
    }

    fn gradient(&self, x: &[f64], out: &mut [f64]) {
        self.loss_and_gradient(x, out);
    }

    fn examples(&self) -> usize {
        self.data.examples()
    }

    fn batch_gradient(&self, x: &[f64], batch: &[usize], out: &mut [f64]) {
        let mut slot = self.batch.borrow_mut();
        let features = self.data.features;
        if slot
            .as_ref()
            .is_none_or(|(d, _)| d.examples() != batch.len())
        {
            let data = Dataset {
                inputs: vec![0.0; batch.len() * features],
                labels: vec![0; batch.len()],
                features,
                classes: self.data.classes,
            };
            *slot = Some((data, self.net.workspace(batch.len())));
        }
        let (data, ws) = slot.as_mut().expect("filled above");
        for (k, &i) in batch.iter().enumerate() {
            data.inputs[k * features..(k + 1) * features]
                .copy_from_slice(&self.data.inputs[i * features..(i + 1) * features]);
            data.labels[k] = self.data.labels[i];
        }
        self.net.loss_and_gradient(x, data, ws, out);
    }
}

/// How training runs and when it is declared converged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// The update rule (GD, SGD with a batch size, momentum, Adam).
    pub method: Method,
    /// Initial learning rate.
    pub learning_rate: f64,
    /// Apparent convergence: the full-batch loss fell by less than this fraction over the
    /// last `window` epochs (e.g. 0.01).
    pub min_relative_gain: f64,
    /// Epochs over which the gain is measured (e.g. 10).
    pub window: usize,
    /// At each apparent convergence the learning rate is divided by this (e.g. 10) ...
    pub drop_factor: f64,
    /// ... up to this many times; training ends at the plateau after the last drop.
    pub drops: usize,
    /// Training also ends after this many epochs (the last state is then recorded as
    /// `converged: false`).
    pub max_epochs: usize,
}

/// One epoch's full-batch record.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    /// Epoch number (0 = before training).
    pub epoch: usize,
    /// Full-batch training loss.
    pub loss: f64,
    /// Full-batch gradient norm.
    pub gradient_norm: f64,
    /// Its norm per layer (weights and biases together), input layer first.
    pub layer_norms: Vec<f64>,
    /// Learning rate used during the epoch.
    pub learning_rate: f64,
}

/// A point where training looked converged.
#[derive(Debug, Clone, PartialEq)]
pub struct Plateau {
    /// Epoch at which the rule fired.
    pub epoch: usize,
    /// Learning rate in use before the drop.
    pub learning_rate: f64,
    /// Parameters at that moment.
    pub theta: Vec<f64>,
}

/// The outcome of a training run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingRun {
    /// One record per epoch, epoch 0 first.
    pub history: Vec<EpochRecord>,
    /// Every apparent convergence, in order.
    pub plateaus: Vec<Plateau>,
    /// Whether the rule fired after the last drop (otherwise `max_epochs` ended the run).
    pub converged: bool,
    /// Whether an iterate became non-finite (the run then stops; its records end there).
    pub diverged: bool,
}

/// Trains `net` from `theta` on `data`: each epoch is `⌈m/B⌉` steps for SGD (one for the
/// full-batch methods); after each epoch the full-batch loss and gradient are recorded; when
/// the loss fell by less than `min_relative_gain` over `window` epochs, the state is recorded
/// as a plateau and the learning rate divided by `drop_factor`, until `drops` drops are spent.
/// Every random choice (minibatch order) comes from `rng`.
pub fn train(
    net: &Mlp,
    data: &Dataset,
    mut theta: Vec<f64>,
    schedule: &Schedule,
    rng: &mut StreamRng,
) -> TrainingRun {
    let objective = NetObjective::new(net, data);
    let config = OptimizerConfig {
        method: schedule.method,
        learning_rate: schedule.learning_rate,
        clip: None,
    };
    let mut optimizer = Optimizer::new(config, net.parameters(), data.examples());
    let steps_per_epoch = match schedule.method {
        Method::Sgd { batch } => data.examples().div_ceil(batch.max(1)),
        _ => 1,
    };
    let mut gradient = vec![0.0; net.parameters()];
    let mut run = TrainingRun {
        history: Vec::new(),
        plateaus: Vec::new(),
        converged: false,
        diverged: false,
    };
    let mut record = |epoch: usize, theta: &[f64], eta: f64, run: &mut TrainingRun| {
        let loss = objective.loss_and_gradient(theta, &mut gradient);
        run.history.push(EpochRecord {
            epoch,
            loss,
            gradient_norm: norm(&gradient),
            layer_norms: layer_gradients(net, &gradient)
                .iter()
                .map(|l| l.norm)
                .collect(),
            learning_rate: eta,
        });
        loss
    };
    record(0, &theta, schedule.learning_rate, &mut run);
    let mut since_drop = 0;
    for epoch in 1..=schedule.max_epochs {
        let eta = optimizer.learning_rate();
        for _ in 0..steps_per_epoch {
            if optimizer.step(&objective, &mut theta, rng) == StepStatus::NonFinite {
                run.diverged = true;
                return run;
            }
        }
        let loss = record(epoch, &theta, eta, &mut run);
        since_drop += 1;
        if !loss.is_finite() {
            run.diverged = true;
            return run;
        }
        if since_drop >= schedule.window {
            let before = run.history[run.history.len() - 1 - schedule.window].loss;
            if (before - loss) < schedule.min_relative_gain * before.abs() {
                run.plateaus.push(Plateau {
                    epoch,
                    learning_rate: eta,
                    theta: theta.clone(),
                });
                if run.plateaus.len() > schedule.drops {
                    run.converged = true;
                    return run;
                }
                optimizer.set_learning_rate(eta / schedule.drop_factor);
                since_drop = 0;
            }
        }
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::chunk_stream;
    use crate::nets::{Activation, Loss};

    fn iris_split() -> (Dataset, Dataset) {
        let split = Dataset::iris().split(0.2, &mut chunk_stream(1, "iris", 0, 0));
        (split.train, split.test)
    }

    fn schedule(method: Method) -> Schedule {
        Schedule {
            method,
            learning_rate: 0.5,
            min_relative_gain: 0.01,
            window: 10,
            drop_factor: 10.0,
            drops: 2,
            max_epochs: 5000,
        }
    }

    /// Full-batch GD on iris learns (test accuracy above 90 %), the rule fires three times
    /// (two drops, then the end) with learning rates 0.5, 0.05, 0.005, and each plateau's
    /// recorded loss gain over its window is below 1 %.
    #[test]
    fn gd_on_iris_learns_and_drops_the_rate_at_each_plateau() {
        let (train_set, test_set) = iris_split();
        let net = Mlp::new(&[4, 8, 3], Activation::Tanh, Loss::CrossEntropy, 1e-3);
        let mut rng = chunk_stream(2, "train", 0, 0);
        let theta = net.initialise(1.0, &mut rng);
        let run = train(&net, &train_set, theta, &schedule(Method::Gd), &mut rng);
        assert!(run.converged && !run.diverged);
        let rates: Vec<f64> = run.plateaus.iter().map(|p| p.learning_rate).collect();
        assert_eq!(rates.len(), 3);
        assert!((rates[0] - 0.5).abs() < 1e-15 && (rates[1] - 0.05).abs() < 1e-15);
        for p in &run.plateaus {
            let now = run.history[p.epoch].loss;
            let before = run.history[p.epoch - 10].loss;
            assert!(before - now < 0.01 * before, "epoch {}", p.epoch);
        }
        let last = &run.plateaus[2].theta;
        let mut ws = net.workspace(test_set.examples());
        assert!(net.accuracy(last, &test_set, &mut ws, None) > 0.9);
    }

    /// SGD on real minibatches: the same seed gives the same run bit for bit, and a
    /// minibatch gradient over all examples equals the full-batch gradient.
    #[test]
    fn sgd_is_reproducible_and_its_batches_are_real() {
        let (train_set, _) = iris_split();
        let net = Mlp::new(&[4, 6, 3], Activation::Softplus, Loss::CrossEntropy, 0.0);
        let run = |seed| {
            let mut rng = chunk_stream(seed, "train", 0, 0);
            let theta = net.initialise(1.0, &mut rng);
            let mut s = schedule(Method::Sgd { batch: 16 });
            s.learning_rate = 0.1;
            s.max_epochs = 60;
            train(&net, &train_set, theta, &s, &mut rng)
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3).history, run(4).history);
        let objective = NetObjective::new(&net, &train_set);
        let theta = net.initialise(1.0, &mut chunk_stream(5, "t", 0, 0));
        let (mut full, mut batch) = (vec![0.0; theta.len()], vec![0.0; theta.len()]);
        objective.gradient(&theta, &mut full);
        let all: Vec<usize> = (0..train_set.examples()).collect();
        objective.batch_gradient(&theta, &all, &mut batch);
        assert!(full.iter().zip(&batch).all(|(a, b)| (a - b).abs() < 1e-15));
    }
}
