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
