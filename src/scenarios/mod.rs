//! One module per claim-scenario, plus the registry that maps command names to them.
//!
//! A scenario is an [`Experiment`]: a grid of cells, a pure simulation of one chunk of a
//! cell, and a report from the merged accumulators. It knows nothing about threads, files or
//! the terminal; the engine ([`crate::mc`]) and the runner supply those.

mod convergence_audit;
mod critical_census;
mod critical_volume;
mod degenerate_trap;
pub mod escape;
mod hessian_signs;
pub mod params;
mod plateau_crossing;
mod remedies;
mod saddle_escape;
pub mod spec;
mod well_escape;

pub use convergence_audit::ConvergenceAudit;
pub use critical_census::CriticalCensus;
pub use critical_volume::CriticalVolume;
pub use degenerate_trap::DegenerateTrap;
pub use hessian_signs::HessianSigns;
pub use plateau_crossing::PlateauCrossing;
pub use remedies::Remedies;
pub use saddle_escape::SaddleEscape;
pub use well_escape::WellEscape;

use toml::Table;

use crate::mc::{Accumulator, CellWork, Stop, StreamRng};
use crate::report::Report;
use crate::stats::StatsError;
use params::ParamError;
use spec::ScenarioSpec;

/// A claim-scenario, as the engine and the runner see it.
pub trait Experiment: Sized + Sync {
    /// What one chunk of one cell produces; merged in chunk order.
    type Accumulator: Accumulator;

    /// The scenario's description file `scenarios/<name>.toml`, embedded at build time.
    const SPEC: &'static str;

    /// Builds the experiment from a resolved parameter table, checking every value.
    fn from_params(table: &Table) -> Result<Self, ParamError>;

    /// Replicates of each grid cell, in grid order, and the chunk size of each (the unit of
    /// parallel work, checkpointing and sharding).
    fn work(&self) -> Vec<CellWork>;

    /// Simulates `replicates` samples of grid cell `cell` from `rng`. Must be a pure
    /// function of its arguments.
    fn simulate(
        &self,
        cell: usize,
        replicates: u64,
        rng: &mut StreamRng,
        stop: Stop,
    ) -> Self::Accumulator;

    /// Bytes one chunk needs while it runs, beyond a few kilobytes: the runner refuses a run
    /// whose chunks under way would not fit in the machine's available memory, instead of
    /// aborting in the allocator.
    fn bytes_per_chunk(&self) -> u64 {
        0
    }

    /// Estimates, predictions and verdicts from the merged accumulator of every cell.
    fn report(&self, cells: &[Self::Accumulator]) -> Result<Report, StatsError>;
}

/// Something to do with a scenario whose type is known only at run time (see [`dispatch`]).
pub trait ExperimentVisitor {
    /// What the visit returns.
    type Output;
    /// Called with the scenario's type and its parsed spec.
    fn visit<E: Experiment>(self, spec: ScenarioSpec) -> Self::Output;
}

/// The one registry. Each line names a scenario's command (the `name` of its TOML) and its
/// [`Experiment`] type, in the order `list` and `all` use; adding a scenario is adding a line
/// here (plus its folder and its TOML).
macro_rules! registry {
    ($($name:literal => $experiment:ty),* $(,)?) => {
        /// Every scenario's command name, in the order `list` and `all` use.
        pub const SCENARIO_NAMES: &[&str] = &[$($name),*];

        /// The spec of a scenario (its TOML, parsed), or `None` for an unknown name.
        pub fn spec_of(name: &str) -> Option<Result<ScenarioSpec, ParamError>> {
            let text = match name {
                $($name => <$experiment>::SPEC,)*
                _ => return None,
            };
            Some(ScenarioSpec::parse(text, &format!("scenarios/{name}.toml")))
        }

        /// Calls `visitor` with the scenario that `spec` describes (parsed once by the caller);
        /// `None` if no registered scenario has that name.
        pub fn dispatch<V: ExperimentVisitor>(spec: ScenarioSpec, visitor: V) -> Option<V::Output> {
            match spec.name.as_str() {
                $($name => Some(visitor.visit::<$experiment>(spec)),)*
                _ => None,
            }
        }
    };
}

registry! {
    "hessian-signs" => HessianSigns,
    "saddle-escape" => SaddleEscape,
    "well-escape" => WellEscape,
    "plateau-crossing" => PlateauCrossing,
    "degenerate-trap" => DegenerateTrap,
    "convergence-audit" => ConvergenceAudit,
    "critical-census" => CriticalCensus,
    "critical-volume" => CriticalVolume,
    "remedies" => Remedies,
}

#[cfg(test)]
mod tests {
    use super::*;

    struct CheckProfiles;
    impl ExperimentVisitor for CheckProfiles {
        type Output = ();
        fn visit<E: Experiment>(self, spec: ScenarioSpec) {
            for profile in ["quick", "paper", "bench"] {
                let table = spec.profile(profile).unwrap();
                let experiment = E::from_params(&table)
                    .unwrap_or_else(|e| panic!("{} {profile}: {e}", spec.name));
                assert!(!experiment.work().is_empty());
            }
        }
    }

    #[test]
    fn every_spec_parses_and_every_profile_is_valid() {
        for name in SCENARIO_NAMES {
            let spec = spec_of(name).unwrap().unwrap();
            assert_eq!(&spec.name, name);
            dispatch(spec, CheckProfiles).unwrap();
        }
        assert!(spec_of("nope").is_none());
    }
}
