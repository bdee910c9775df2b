//! One chunk of `saddle-escape`: the runs of one cell.

use rand::RngExt;

use super::super::escape::EscapeTimes;
use super::{Case, ChainSettings, SaddleEscape};
use crate::landscape::{Objective, QuadraticSaddle, SaddleChain, random_start};
use crate::mc::{Stop, StreamRng};
use crate::optim::{
    Method, MethodName, MethodSettings, Optimizer, OptimizerConfig, first_passage, norm,
};

impl SaddleEscape {
    /// Simulates `replicates` runs of a cell (`Experiment::simulate`).
    pub(super) fn run_cell(
        &self,
        cell: usize,
        replicates: u64,
        rng: &mut StreamRng,
        stop: Stop,
    ) -> EscapeTimes {
        let mut times = EscapeTimes::default();
        match self.cells[cell] {
            Case::Quadratic(q) => {
                let saddle = QuadraticSaddle::new(q.dimension, q.negative, q.gamma, 1.0);
                let method = MethodSettings {
                    sigma: q.sigma,
                    // From the saddle: one perturbation (the gradient is below the threshold
                    // only there), never again.
                    perturbation_interval: u64::MAX,
                    ..self.perturbation_settings()
                }
                .method(q.method);
                let mut optimizer = Self::optimizer(method, q.learning_rate, q.dimension, 0);
                let mut x = vec![0.0; q.dimension];
                for _ in 0..replicates {
                    optimizer.reset();
                    x.iter_mut().for_each(|v| *v = 0.0);
                    if matches!(method, Method::Gd) {
                        x[0] = self.start_distance;
                    }
                    times.record(first_passage(
                        &mut optimizer,
                        &saddle,
                        &mut x,
                        self.budget,
                        rng,
                        stop,
                        |x| norm(x) >= q.radius,
                    ));
                }
            }
            Case::Net { batch, init_scale } => {
                let method = batch.map_or(Method::Gd, |batch| Method::Sgd { batch });
                let config = OptimizerConfig {
                    method,
                    learning_rate: self.net_learning_rate,
                    clip: None,
                };
                let mut optimizer =
                    Optimizer::new(config, self.net.dimension(), self.net.examples());
                let mut theta = vec![0.0; self.net.dimension()];
                for _ in 0..replicates {
                    optimizer.reset();
                    random_start(&mut theta, init_scale, rng);
                    if self.every_example_gradient_vanishes(&theta) {
                        // Exact shortcut: GD and SGD (any batches) never move from a point where
                        // every per-example gradient is zero, so the run is censored.
                        times.record(crate::optim::Passage::Censored);
                        continue;
                    }
                    times.record(first_passage(
                        &mut optimizer,
                        &self.net,
                        &mut theta,
                        self.budget,
                        rng,
                        stop,
                        |t| norm(t) >= self.net_radius,
                    ));
                }
            }
            Case::Chain {
                perturbed,
                dimension,
            } => {
                let ChainSettings {
                    learning_rate,
                    gamma,
                    stiffness,
                    start,
                } = self.chain;
                let chain = SaddleChain::new(dimension, gamma, stiffness, self.radius);
                let method = if perturbed {
                    MethodSettings {
                        perturbation_interval: self.chain_interval,
                        ..self.perturbation_settings()
                    }
                    .method(MethodName::PerturbedGd)
                } else {
                    Method::Gd
                };
                let mut optimizer = Self::optimizer(method, learning_rate, dimension, 0);
                let mut x = vec![0.0; dimension];
                for _ in 0..replicates {
                    optimizer.reset();
                    // Random signs and magnitudes in [δ/2, δ]: GD from a random start.
                    x.iter_mut().for_each(|v| {
                        *v = start
                            * (0.5 + 0.5 * rng.random::<f64>())
                            * if rng.random::<bool>() { 1.0 } else { -1.0 }
                    });
                    times.record(first_passage(
                        &mut optimizer,
                        &chain,
                        &mut x,
                        self.budget,
                        rng,
                        stop,
                        |x| chain.escaped(x),
                    ));
                }
            }
        }
        times
    }

    /// A fresh optimizer for a cell.
    fn optimizer(
        method: Method,
        learning_rate: f64,
        dimension: usize,
        examples: usize,
    ) -> Optimizer {
        Optimizer::new(
            OptimizerConfig {
                method,
                learning_rate,
                clip: None,
            },
            dimension,
            examples,
        )
    }

    /// Perturbed GD: on the quadratic one perturbation (the closed form assumes it), on the
    /// chain one whenever the gradient is small and `chain_perturbation_interval` steps have
    /// passed (Jin et al.'s t_thres).
    /// Perturbed GD's radius and gradient threshold from the parameters.
    fn perturbation_settings(&self) -> MethodSettings {
        MethodSettings {
            perturbation_radius: self.perturbation.0,
            perturbation_threshold: self.perturbation.1,
            ..MethodSettings::default()
        }
    }

    fn every_example_gradient_vanishes(&self, theta: &[f64]) -> bool {
        let mut g = vec![0.0; theta.len()];
        (0..self.net.examples()).all(|i| {
            self.net.batch_gradient(theta, &[i], &mut g);
            g.iter().all(|&v| v == 0.0)
        })
    }
}
