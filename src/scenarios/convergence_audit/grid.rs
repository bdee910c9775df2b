//! The grid of `convergence-audit` and the checks of its parameters.

use toml::Table;

use super::super::params::{ParamError, ParamReader};
use super::{Case, ConvergenceAudit, Trainer};
use crate::choice::Choice;
use crate::mc::chunk_stream;
use crate::nets::{Activation, DataName, Dataset, Loss, Mlp, NewtonStep, Schedule, SearchSettings};
use crate::optim::{Method, MethodName, MethodSettings};

impl ConvergenceAudit {
    /// Reads and checks the parameters (`Experiment::from_params`).
    pub(super) fn read(table: &Table) -> Result<Self, ParamError> {
        let mut p = ParamReader::new(table);
        let replicates = p.integer("replicates", 2..=1_000_000)?;
        let data = p.choice_of("dataset", DataName::ALL)?;
        let test_fraction = p.number("test_fraction", 0.0..=0.9, true)?;
        let split_seed = p.integer("split_seed", 0..=u64::MAX)?;
        let hidden_layers = p.integer("hidden_layers", 1..=8)? as usize;
        let widths = p.integer_list("widths", 1..=4096)?;
        let activations = p.choices_of("activations", Activation::ALL, false)?;
        let decays = p.number_list("weight_decays", 0.0..=1.0, false)?;
        let trainers = p.choices_of("trainers", Trainer::ALL, false)?;
        let loss = p.choice_of("loss", Loss::ALL)?;
        let init_gain = p.number("init_gain", 0.0..=10.0, true)?;
        let mut learning_rates = [0.0; 4];
        for (rate, trainer) in learning_rates.iter_mut().zip(Trainer::ALL) {
            *rate = p.number(
                &format!("{}_learning_rate", trainer.name()),
                0.0..=10.0,
                true,
            )?;
        }
        let sgd_batch = p.integer("sgd_batch", 1..=1_000_000)? as usize;
        let schedule = Schedule {
            method: Method::Gd,
            learning_rate: 0.0,
            min_relative_gain: p.number("min_relative_gain", 0.0..=1.0, true)?,
            window: p.integer("window", 1..=100_000)? as usize,
            drop_factor: p.number("drop_factor", 1.0..=1e6, true)?,
            drops: p.integer("drops", 0..=10)? as usize,
            max_epochs: p.integer("max_epochs", 1..=10_000_000)? as usize,
        };
        let history_every = p.integer("history_every", 1..=1_000_000)?;
        let line_points = p.integer("line_points", 2..=10_001)? as usize;
        let search = SearchSettings {
            iterations: p.integer("search_iterations", 0..=100_000)? as usize,
            step: NewtonStep::Minres(p.integer("search_inner_iterations", 1..=100_000)? as usize),
            tolerance: 0.0,
            flatness: p.number("search_flatness", 0.0..=1.0, true)?,
            examples_per_chunk: None,
        };
        let search_tolerance = p.number("search_tolerance", 0.0..=1.0, true)?;
        let critical_tolerance = p.number("critical_tolerance", 0.0..=1.0, true)?;
        let curvature_tolerance = p.number("curvature_tolerance", 0.0..=1.0, true)?;
        let shrink_threshold = p.number("shrink_threshold", 0.0..=1.0, true)?;
        let significance = p.number("significance", 0.0..=0.5, true)?;
        p.finish("convergence-audit")?;
        let full = Dataset::named(data);
        let split = full.split(
            test_fraction,
            &mut chunk_stream(split_seed, "convergence-audit data split", 0, 0),
        );
        if trainers.contains(&Trainer::Sgd) && sgd_batch > split.train.examples() {
            return Err(ParamError::Invalid {
                key: "sgd_batch".into(),
                expected: format!(
                    "must not exceed the {} training examples",
                    split.train.examples()
                ),
                got: sgd_batch.to_string(),
            });
        }
        let mut cells = Vec::new();
        for &width in &widths {
            for &activation in &activations {
                for &weight_decay in &decays {
                    for &trainer in &trainers {
                        cells.push(Case {
                            width: width as usize,
                            activation,
                            weight_decay,
                            trainer,
                        });
                    }
                }
            }
        }
        Ok(ConvergenceAudit {
            cells,
            replicates,
            hidden_layers,
            train: split.train,
            test: split.test,
            loss,
            init_gain,
            learning_rates,
            sgd_batch,
            schedule,
            history_every,
            line_points,
            search,
            search_tolerance,
            critical_tolerance,
            curvature_tolerance,
            shrink_threshold,
            significance,
        })
    }

    /// The network of a cell: `hidden_layers` hidden layers of the cell's width between the
    /// data's features and classes.
    pub(super) fn network(&self, case: &Case) -> Mlp {
        let mut widths = vec![self.train.features];
        widths.extend(std::iter::repeat_n(case.width, self.hidden_layers));
        widths.push(self.train.classes);
        Mlp::new(&widths, case.activation, self.loss, case.weight_decay)
    }

    /// The training schedule of a cell (its method and learning rate; momentum β = 0.9 and
    /// Adam's (0.9, 0.999, 10⁻⁸), the usual defaults).
    pub(super) fn schedule_of(&self, case: &Case) -> Schedule {
        let defaults = MethodSettings::default();
        let method = match case.trainer {
            Trainer::Gd => Method::Gd,
            Trainer::Sgd => Method::Sgd {
                batch: self.sgd_batch,
            },
            Trainer::Momentum => defaults.method(MethodName::Momentum),
            Trainer::Adam => defaults.method(MethodName::Adam),
        };
        let position = Trainer::ALL
            .iter()
            .position(|t| *t == case.trainer)
            .expect("every trainer is listed");
        Schedule {
            method,
            learning_rate: self.learning_rates[position],
            ..self.schedule
        }
    }
}
