//! The grid of `well-escape` and the checks of its parameters.

use toml::Table;

use super::super::params::{ParamError, ParamReader};
use super::{Case, MAX_STEP_NOISE, Target, WellEscape, step_noise};

impl WellEscape {
    /// Reads and checks the parameters (`Experiment::from_params`).
    pub(super) fn read(table: &Table) -> Result<Self, ParamError> {
        let mut p = ParamReader::new(table);
        let replicates = p.integer("replicates", 2..=1_000_000_000)?;
        let chunk = p.integer("chunk", 1..=1_000_000_000)?;
        let budget = p.integer("budget", 1..=1_000_000_000_000)?;
        let learning_rate = p.number("learning_rate", 0.0..=0.5, true)?;
        let ratios = p.number_list("barrier_ratios", 0.0..=100.0, true)?;
        let dims = p.integer_list("dims", 1..=10_000)?;
        let tilts = p.number_list("tilts", -0.3..=0.3, false)?;
        let saddle_radius = p.number("saddle_radius", 0.0..=1e6, true)?;
        let significance = p.number("significance", 0.0..=0.5, true)?;
        p.finish("well-escape")?;
        if let Some(&ratio) = ratios
            .iter()
            .find(|&&r| step_noise(learning_rate, r) >= MAX_STEP_NOISE)
        {
            return Err(ParamError::Invalid {
                key: "barrier_ratios".into(),
                expected: format!(
                    "must give a noise per step eta*sigma below {MAX_STEP_NOISE} at learning_rate {learning_rate} (the minimum is 1 from the barrier top: a larger kick jumps the barrier in one step and the walk is no longer a diffusion in the well)"
                ),
                got: format!(
                    "{ratio} (eta*sigma = {:.3})",
                    step_noise(learning_rate, ratio)
                ),
            });
        }
        let mut cells = Vec::new();
        for &dimension in &dims {
            for &tilt in &tilts {
                for target in [Target::Barrier, Target::OtherWell] {
                    for &ratio in &ratios {
                        cells.push(Case::Well {
                            dimension: dimension as usize,
                            tilt,
                            ratio,
                            target,
                        });
                    }
                }
            }
            for &ratio in &ratios {
                cells.push(Case::Saddle {
                    dimension: dimension as usize,
                    ratio,
                });
            }
        }
        Ok(WellEscape {
            cells,
            replicates,
            chunk,
            budget,
            learning_rate,
            saddle_radius,
            significance,
        })
    }
}
