//! The grid of `critical-census` and the checks of its parameters.

use toml::Table;

use super::super::params::{ParamError, ParamReader};
use super::{Case, CriticalCensus, Data, Solver, Start};
use crate::choice::Choice;
use crate::mc::chunk_stream;
use crate::nets::{Activation, DataName, Dataset, Loss, Mlp, Schedule};
use crate::optim::Method;

impl CriticalCensus {
    /// Reads and checks the parameters (`Experiment::from_params`).
    pub(super) fn read(table: &Table) -> Result<Self, ParamError> {
        let mut p = ParamReader::new(table);
        let replicates = p.integer("replicates", 1..=1_000_000)?;
        let datasets = p.choices_of("datasets", DataName::ALL, false)?;
        let test_fraction = p.number("test_fraction", 0.0..=0.9, true)?;
        let split_seed = p.integer("split_seed", 0..=u64::MAX)?;
        let widths = p.integer_list("widths", 1..=1024)?;
        let starts = p.choices_of("starts", Start::ALL, false)?;
        let solvers = p.choices_of("solvers", Solver::ALL, false)?;
        let activation = p.choice_of("activation", Activation::ALL)?;
        let loss = p.choice_of("loss", Loss::ALL)?;
        let weight_decay = p.number("weight_decay", 0.0..=1.0, false)?;
        let init_gain = p.number("init_gain", 0.0..=10.0, true)?;
        let learning_rate = p.number("learning_rate", 0.0..=10.0, true)?;
        let trajectory_epochs = p.integer("trajectory_epochs", 1..=1_000_000)?;
        let schedule = Schedule {
            method: Method::Gd,
            learning_rate,
            min_relative_gain: p.number("min_relative_gain", 0.0..=1.0, true)?,
            window: p.integer("window", 1..=100_000)? as usize,
            drop_factor: 10.0,
            drops: 0,
            max_epochs: p.integer("max_epochs", 1..=10_000_000)? as usize,
        };
        let iterations = p.integer("search_iterations", 1..=100_000)? as usize;
        let inner_iterations = p.integer("search_inner_iterations", 1..=100_000)? as usize;
        let critical_tolerance = p.number("critical_tolerance", 0.0..=1.0, true)?;
        let flatness = p.number("search_flatness", 0.0..=1.0, true)?;
        let curvature_tolerance = p.number("curvature_tolerance", 0.0..=1.0, true)?;
        let often_threshold = p.number("often_threshold", 0.0..=1.0, true)?;
        let significance = p.number("significance", 0.0..=0.5, true)?;
        p.finish("critical-census")?;
        let data = datasets
            .iter()
            .map(|&name| {
                let full = Dataset::named(name);
                let split = full.split(
                    test_fraction,
                    &mut chunk_stream(split_seed, "critical-census data split", 0, 0),
                );
                Data {
                    name,
                    train: split.train,
                }
            })
            .collect();
        let mut cells = Vec::new();
        for &data in &datasets {
            for &width in &widths {
                for &start in &starts {
                    for &solver in &solvers {
                        cells.push(Case {
                            data,
                            width: width as usize,
                            start,
                            solver,
                        });
                    }
                }
            }
        }
        Ok(CriticalCensus {
            cells,
            data,
            replicates,
            activation,
            loss,
            weight_decay,
            init_gain,
            learning_rate,
            trajectory_epochs,
            schedule,
            iterations,
            inner_iterations,
            critical_tolerance,
            flatness,
            curvature_tolerance,
            often_threshold,
            significance,
        })
    }

    /// The network of a cell: one hidden layer of the cell's width.
    pub(super) fn network(&self, case: &Case) -> Mlp {
        let data = self.data_of(case.data);
        Mlp::new(
            &[data.features, case.width, data.classes],
            self.activation,
            self.loss,
            self.weight_decay,
        )
    }
}
