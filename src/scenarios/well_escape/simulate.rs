//! One chunk of `well-escape`: noisy GD from a well or a saddle.

use super::super::escape::EscapeTimes;
use super::{Case, Target, WellEscape};
use crate::landscape::{DoubleWell, QuadraticSaddle};
use crate::mc::{Stop, StreamRng};
use crate::optim::{Method, Optimizer, OptimizerConfig, first_passage, norm};

impl WellEscape {
    /// Simulates `replicates` runs of a cell (`Experiment::simulate`).
    pub(super) fn run_cell(
        &self,
        cell: usize,
        replicates: u64,
        rng: &mut StreamRng,
        stop: Stop,
    ) -> EscapeTimes {
        let mut times = EscapeTimes::default();
        let case = self.cells[cell];
        let (dimension, ratio) = match case {
            Case::Well {
                dimension, ratio, ..
            }
            | Case::Saddle { dimension, ratio } => (dimension, ratio),
        };
        let config = OptimizerConfig {
            method: Method::NoisyGd {
                sigma: self.sigma(ratio),
            },
            learning_rate: self.learning_rate,
            clip: None,
        };
        let mut optimizer = Optimizer::new(config, dimension, 0);
        let mut x = vec![0.0; dimension];
        match case {
            Case::Well { tilt, target, .. } => {
                let well = DoubleWell::new(dimension, tilt);
                let (start, barrier, other) = well.critical_points();
                let level = if target == Target::Barrier {
                    barrier
                } else {
                    other
                };
                for _ in 0..replicates {
                    optimizer.reset();
                    x.iter_mut().for_each(|v| *v = 0.0);
                    x[0] = start;
                    times.record(first_passage(
                        &mut optimizer,
                        &well,
                        &mut x,
                        self.budget,
                        rng,
                        stop,
                        |x| x[0] >= level,
                    ));
                }
            }
            Case::Saddle { .. } => {
                let saddle = QuadraticSaddle::new(dimension, 1, 1.0, 1.0);
                for _ in 0..replicates {
                    optimizer.reset();
                    x.iter_mut().for_each(|v| *v = 0.0);
                    times.record(first_passage(
                        &mut optimizer,
                        &saddle,
                        &mut x,
                        self.budget,
                        rng,
                        stop,
                        |x| norm(x) >= self.saddle_radius,
                    ));
                }
            }
        }
        times
    }
}
