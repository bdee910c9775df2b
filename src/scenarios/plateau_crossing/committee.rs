//! The symmetric plateau of a soft committee machine learning a teacher online (Saad &
//! Solla 1995): its length in α = steps/N across seeds, against N and η.

use super::super::escape::{ESCAPE_COLUMNS, EscapeTimes, escape_values};
use super::super::params::{ParamError, ParamReader};
use crate::landscape::{MAX_COMMITTEE_UNITS, SoftCommittee};
use crate::mc::{CellWork, Stop, StreamRng};
use crate::optim::Passage;
use crate::report::{DataTable, Datum, Finding, Plot, Verdict, plus_minus, short};
use crate::stats::{StatsError, weighted_least_squares};

/// The generalisation error is checked every `N / CHECKS_PER_ALPHA` steps (rounded up): the
/// plateau length is resolved to 0.1 in α.
const CHECKS_PER_ALPHA: usize = 10;

/// One grid cell: K = M hidden units, N inputs, learning rate η.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cell {
    units: usize,
    inputs: usize,
    learning_rate: f64,
}

/// The committee-machine part of `plateau-crossing`.
pub struct CommitteePart {
    cells: Vec<Cell>,
    level: f64,
    initial_norm: f64,
    max_alpha: f64,
    replicates: u64,
    chunk: u64,
}

impl CommitteePart {
    /// Test support: (N, η) of every cell.
    #[cfg(test)]
    pub fn cells_for_test(&self) -> Vec<(usize, f64)> {
        self.cells
            .iter()
            .map(|c| (c.inputs, c.learning_rate))
            .collect()
    }

    /// Reads the `committee_*` parameters.
    pub fn from_params(p: &mut ParamReader) -> Result<Self, ParamError> {
        let units = p.integer_list("committee_units", 1..=MAX_COMMITTEE_UNITS as u64)?;
        let inputs = p.integer_list("committee_inputs", 16..=100_000)?;
        let rates = p.number_list("committee_learning_rates", 0.0..=2.0, true)?;
        let level = p.number("committee_level", 0.0..=1.0, true)?;
        let initial_norm = p.number("committee_initial_norm", 0.0..=1.0, true)?;
        let max_alpha = p.number("committee_max_alpha", 0.0..=1e7, true)?;
        let replicates = p.integer("committee_replicates", 1..=1_000_000_000)?;
        let chunk = p.integer("committee_chunk", 1..=1_000_000_000)?;
        let mut cells = Vec::new();
        for &units in &units {
            for &inputs in &inputs {
                for &learning_rate in &rates {
                    cells.push(Cell {
                        units: units as usize,
                        inputs: inputs as usize,
                        learning_rate,
                    });
                }
            }
        }
        Ok(CommitteePart {
            cells,
            level,
            initial_norm,
            max_alpha,
            replicates,
            chunk,
        })
    }

    /// `committee_replicates` seeds per cell.
    pub fn work(&self) -> Vec<CellWork> {
        self.cells
            .iter()
            .map(|c| {
                let replicates = self.replicates;
                CellWork::keyed(
                    &format!(
                        "committee units={} inputs={} eta={:?}",
                        c.units, c.inputs, c.learning_rate
                    ),
                    replicates,
                    self.chunk,
                )
            })
            .collect()
    }

    /// Runs `replicates` students from fresh teachers and initialisations until
    /// `ε_g < committee_level` (recorded in steps) or `committee_max_alpha`.
    pub fn simulate(
        &self,
        cell: usize,
        replicates: u64,
        rng: &mut StreamRng,
        stop: Stop,
    ) -> EscapeTimes {
        let c = self.cells[cell];
        let every = c.inputs.div_ceil(CHECKS_PER_ALPHA);
        let budget = (self.max_alpha * c.inputs as f64).ceil() as u64;
        let mut times = EscapeTimes::default();
        for _ in 0..replicates {
            let mut machine =
                SoftCommittee::new(c.inputs, c.units, c.units, self.initial_norm, rng);
            let mut steps = 0u64;
            let passage = loop {
                if machine.generalisation_error() < self.level {
                    break Passage::Reached(steps);
                }
                if steps >= budget {
                    break Passage::Censored;
                }
                if stop.requested() {
                    break Passage::Stopped;
                }
                if !(0..every).all(|_| machine.step(c.learning_rate, rng)) {
                    break Passage::Diverged;
                }
                steps += every as u64;
            };
            times.record(passage);
        }
        times
    }

    /// The `plateau-crossing-committee` table: plateau lengths in steps and in α.
    pub fn table(&self, cells: &[EscapeTimes]) -> DataTable {
        let mut table = DataTable::new(
            "committee",
            &[
                &["units", "inputs", "learning_rate"][..],
                &ESCAPE_COLUMNS[..],
                &[
                    "mean_alpha",
                    "mean_alpha_se",
                    "eta_times_mean_alpha",
                    "ln_inputs_over_eta",
                ][..],
            ]
            .concat(),
        );
        for (c, times) in self.cells.iter().zip(cells) {
            let n = c.inputs as f64;
            let mut row: Vec<Datum> = vec![
                (c.units as u64).into(),
                (c.inputs as u64).into(),
                c.learning_rate.into(),
            ];
            row.extend(escape_values(times));
            row.extend([
                (times.steps.mean() / n).into(),
                (times.steps.standard_error() / n).into(),
                (c.learning_rate * times.steps.mean() / n).into(),
                (n.ln() / c.learning_rate).into(),
            ]);
            table.push(row);
        }
        table
    }

    /// One finding per K (see [`Self::law_for`]).
    pub fn findings(&self, cells: &[EscapeTimes]) -> Result<Vec<Finding>, StatsError> {
        let mut units: Vec<usize> = self.cells.iter().map(|c| c.units).collect();
        units.dedup();
        units.into_iter().map(|k| self.law_for(k, cells)).collect()
    }

    /// The ln N / η law for K = M = `units`: a weighted LS fit of `η·ᾱ = a + b ln N` over
    /// that K's cells; supported if b > 0 at 5 σ (χ²/dof reported).
    fn law_for(&self, units: usize, cells: &[EscapeTimes]) -> Result<Finding, StatsError> {
        let points: Vec<(f64, f64, f64)> = self
            .cells
            .iter()
            .zip(cells)
            .filter(|(c, t)| c.units == units && t.steps.count() > 1)
            .map(|(c, t)| {
                let n = c.inputs as f64;
                (
                    n.ln(),
                    c.learning_rate * t.steps.mean() / n,
                    c.learning_rate * t.steps.standard_error() / n,
                )
            })
            .collect();
        let censored: u64 = self
            .cells
            .iter()
            .zip(cells)
            .filter(|(c, _)| c.units == units)
            .map(|(_, t)| t.censored + t.diverged)
            .sum();
        let mut distinct_n: Vec<f64> = points.iter().map(|p| p.0).collect();
        distinct_n.sort_by(f64::total_cmp);
        distinct_n.dedup();
        let (measured, verdict) = if distinct_n.len() < 2 {
            (
                "needs at least two input dimensions N with finished runs".to_string(),
                Verdict::Inconclusive,
            )
        } else {
            let x: Vec<Vec<f64>> = points.iter().map(|p| vec![1.0, p.0]).collect();
            let y: Vec<f64> = points.iter().map(|p| p.1).collect();
            let w: Vec<f64> = points.iter().map(|p| p.2.max(1e-12).powi(-2)).collect();
            let fit = weighted_least_squares(&x, &y, &w)?;
            let (a, b, se) = (
                fit.coefficients[0],
                fit.coefficients[1],
                fit.standard_errors[1],
            );
            (
                format!(
                    "eta * alpha_plateau = {} + ({}) ln N over {} cells ({}){}",
                    short(a),
                    plus_minus(b, se),
                    points.len(),
                    fit.quality(),
                    if censored > 0 {
                        format!("; {censored} runs censored or diverged")
                    } else {
                        String::new()
                    }
                ),
                if b > 5.0 * se && censored == 0 {
                    Verdict::Supported
                } else {
                    Verdict::Inconclusive
                },
            )
        };
        Ok(Finding {
            claim: "C7".into(),
            subject: format!("soft committee K = M = {units}"),
            article: "a plateau, not a minimum, is what holds training up".into(),
            theory: "symmetric plateau of length alpha ~ (c1 ln N + c2)/eta (Saad & Solla 1995; Biehl, Riegler & Woehler 1996)".into(),
            measured,
            verdict,
            test: "weighted LS fit of eta times the mean plateau length (alpha = steps/N until eps_g < level) on ln N over every N and eta; supported if the ln N slope is positive at 5 sigma with no censored run; chi2/dof near 1 means eta * alpha depends on eta and N only through ln N".into(),
        })
    }

    /// η·ᾱ (± 2 SE) against ln N, one line per η.
    pub fn plot(&self, cells: &[EscapeTimes]) -> Plot {
        let mut plot = Plot::new(
            "committee",
            "Soft committee machine: symmetric plateau (mean ± 2 SE)",
            "ln N",
            "eta * mean plateau length (alpha)",
        );
        for (c, t) in self.cells.iter().zip(cells) {
            if t.steps.count() > 0 {
                let n = c.inputs as f64;
                let scale = c.learning_rate / n;
                let (low, high) = t.steps.band(2.0);
                plot.add_with_interval(
                    format!("K={} eta={}", c.units, c.learning_rate),
                    (n.ln(), scale * t.steps.mean()),
                    (scale * low, scale * high),
                );
            }
        }
        plot
    }
}
