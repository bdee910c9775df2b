//! `plateau-crossing`: claim C7 — the real danger is a plateau, where the gradient is small
//! but not zero and crossing takes very many steps. Three parts, each with its own table:
//!
//! - [`shelf`]: a synthetic shelf of width W and slope g, for GD, noisy GD, momentum and
//!   Adam against closed forms;
//! - [`deep_linear`]: deep linear networks from small initialisations against Saxe,
//!   McClelland & Ganguli (ICLR 2014), with decoupled, Gaussian and orthogonal inits;
//! - [`committee`]: the symmetric plateau of a soft committee machine under online SGD
//!   (Saad & Solla 1995), its length against N and η.

mod committee;
mod deep_linear;
mod shelf;

use toml::Table;

use super::Experiment;
use super::escape::EscapeTimes;
use super::params::{ParamError, ParamReader};
use crate::mc::{CellWork, Stop, StreamRng};
use crate::report::Report;
use crate::stats::StatsError;
use committee::CommitteePart;
use deep_linear::DeepLinearPart;
use shelf::ShelfPart;

/// The resolved scenario: its cells are the shelf's, then the deep networks', then the
/// committee machines'.
pub struct PlateauCrossing {
    shelf: ShelfPart,
    deep: DeepLinearPart,
    committee: CommitteePart,
    /// Cells of the shelf and of the deep networks (the offsets of the later parts).
    counts: [usize; 2],
}

impl Experiment for PlateauCrossing {
    type Accumulator = EscapeTimes;
    const SPEC: &'static str = include_str!("../../../scenarios/plateau-crossing.toml");

    fn from_params(table: &Table) -> Result<Self, ParamError> {
        let mut p = ParamReader::new(table);
        let shelf = ShelfPart::from_params(&mut p)?;
        let deep = DeepLinearPart::from_params(&mut p)?;
        let committee = CommitteePart::from_params(&mut p)?;
        p.finish("plateau-crossing")?;
        let counts = [shelf.work().len(), deep.work().len()];
        Ok(PlateauCrossing {
            shelf,
            deep,
            committee,
            counts,
        })
    }

    fn work(&self) -> Vec<CellWork> {
        let mut work = self.shelf.work();
        work.extend(self.deep.work());
        work.extend(self.committee.work());
        work
    }

    fn simulate(
        &self,
        cell: usize,
        replicates: u64,
        rng: &mut StreamRng,
        stop: Stop,
    ) -> EscapeTimes {
        let [shelf, deep] = self.counts;
        if cell < shelf {
            self.shelf.simulate(cell, replicates, rng, stop)
        } else if cell < shelf + deep {
            self.deep.simulate(cell - shelf, replicates, rng, stop)
        } else {
            self.committee
                .simulate(cell - shelf - deep, replicates, rng, stop)
        }
    }

    fn report(&self, cells: &[EscapeTimes]) -> Result<Report, StatsError> {
        let [shelf, deep] = self.counts;
        let (shelf_cells, rest) = cells.split_at(shelf);
        let (deep_cells, committee_cells) = rest.split_at(deep);
        let shelf_theories = self.shelf.theories();
        let mut findings = self.shelf.findings(shelf_cells, &shelf_theories)?;
        findings.extend(self.deep.findings(deep_cells)?);
        findings.extend(self.committee.findings(committee_cells)?);
        Ok(Report {
            tables: vec![
                self.shelf.table(shelf_cells, &shelf_theories),
                self.deep.table(deep_cells),
                self.committee.table(committee_cells),
            ],
            findings,
            plots: vec![
                self.shelf.plot(shelf_cells),
                self.deep.plot(deep_cells),
                self.committee.plot(committee_cells),
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::Passage;
    use crate::report::{Finding, Verdict};
    use crate::scenarios::spec::ScenarioSpec;

    fn quick() -> PlateauCrossing {
        let spec = ScenarioSpec::parse(PlateauCrossing::SPEC, "plateau-crossing.toml").unwrap();
        PlateauCrossing::from_params(&spec.profile("quick").unwrap()).unwrap()
    }

    /// Two runs per cell, `steps(cell) ± 1`.
    fn times(count: usize, steps: impl Fn(usize) -> f64) -> Vec<EscapeTimes> {
        (0..count)
            .map(|i| {
                let mut t = EscapeTimes::default();
                let m = steps(i).round() as u64;
                t.record(Passage::Reached(m + 1));
                t.record(Passage::Reached(m - 1));
                t
            })
            .collect()
    }

    fn verdict(findings: &[Finding], subject: &str) -> Verdict {
        crate::report::verdict_of(findings, subject)
            .unwrap_or_else(|| panic!("no finding {subject}"))
    }

    /// The shelf: supported when GD's steps scale as 1/g (exponent within 0.05 of −1), not
    /// when they scale as g^(−1/2) (the fit's exponent is then −0.5).
    #[test]
    fn the_shelf_verdict_follows_its_stated_test() {
        let experiment = quick();
        let cells = &experiment.shelf;
        let theories = cells.theories();
        let exact = times(theories.len(), |i| cells.crossing_for_test(i, -1.0));
        let f = cells.findings(&exact, &theories).unwrap();
        assert_eq!(verdict(&f, "synthetic shelf"), Verdict::Supported);
        let shallow = times(theories.len(), |i| cells.crossing_for_test(i, -0.5));
        let f = cells.findings(&shallow, &theories).unwrap();
        assert_eq!(verdict(&f, "synthetic shelf"), Verdict::Inconclusive);
    }

    /// The committee: supported when η·ᾱ grows with ln N (slope 9 per unit ln N, as
    /// measured), inconclusive when it does not depend on N.
    #[test]
    fn the_committee_verdict_follows_its_stated_test() {
        let experiment = quick();
        let part = &experiment.committee;
        let growing = times(part.cells_for_test().len(), |i| {
            let (n, eta) = part.cells_for_test()[i];
            (30.0 + 9.0 * (n as f64).ln()) / eta * n as f64
        });
        let f = part.findings(&growing).unwrap();
        assert_eq!(verdict(&f, "soft committee"), Verdict::Supported);
        let flat = times(part.cells_for_test().len(), |i| {
            let (n, eta) = part.cells_for_test()[i];
            1000.0 / eta * n as f64
        });
        let f = part.findings(&flat).unwrap();
        assert_eq!(verdict(&f, "soft committee"), Verdict::Inconclusive);
    }

    /// Saxe et al.'s depth sweep needs depths past 8: 16 is accepted, 17 refused.
    #[test]
    fn deep_depths_reach_sixteen() {
        let spec = ScenarioSpec::parse(PlateauCrossing::SPEC, "plateau-crossing.toml").unwrap();
        let with_depth = |d: i64| {
            let mut table = spec.profile("quick").unwrap();
            table.insert(
                "deep_depths".into(),
                toml::Value::Array(vec![toml::Value::Integer(d)]),
            );
            PlateauCrossing::from_params(&table)
        };
        assert!(with_depth(16).is_ok());
        let error = with_depth(17).err().unwrap().to_string();
        assert!(error.contains("2..=16"), "{error}");
    }
}
