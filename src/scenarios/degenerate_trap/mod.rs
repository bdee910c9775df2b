//! `degenerate-trap`: claim C8 — on some degenerate terrain a first-order method never
//! arrives, like a walker whose every step is half the previous one.
//!
//! With a fixed step and a continuous gradient, if GD converges its limit is a critical
//! point; so "never arriving" means converging to a degenerate critical point (the half trap,
//! the cubic saddle) or crawling algebraically towards a degenerate minimum (the quartic). The
//! CSV says which, for GD, noisy GD, heavy-ball momentum and Adam.

use serde::{Deserialize, Serialize};
use toml::Table;

use super::Experiment;
use super::escape::{ESCAPE_COLUMNS, EscapeTimes, escape_values};
use super::params::{ParamError, ParamReader};
use crate::choice::Choice;
use crate::landscape::{DegenerateLoss, DegenerateTerrain};
use crate::mc::{Accumulator, CellKey, CellWork, Stop, StreamRng};
use crate::optim::{MethodName, MethodSettings, Optimizer, OptimizerConfig, first_passage};
use crate::report::{DataTable, Datum, Finding, Plot, Report, Verdict, short};
use crate::stats::{MeanVar, StatsError};

/// Which terrain, with its start and its target.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Terrain {
    /// Start at x* − 1, target x* + 1.
    HalfTrap,
    /// Start at 1, target −1 (beyond the degenerate saddle at 0).
    Cubic,
    /// Start at 1, target |x| ≤ ε (the degenerate minimum at 0).
    Quartic,
}

impl Terrain {
    fn name(self) -> &'static str {
        match self {
            Terrain::HalfTrap => "half-trap",
            Terrain::Cubic => "cubic",
            Terrain::Quartic => "quartic",
        }
    }
}

/// Escape times plus where the runs that never arrived ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrapRuns {
    /// Steps to the target.
    pub times: EscapeTimes,
    /// Distance to the degenerate critical point at the end of the runs that did not arrive.
    pub final_distance: MeanVar,
    /// (step, distance to the target) along the cell's first run, at steps 0–10 and then
    /// every 10 %, ending with its last step: the figure's trajectory. Each chunk records its
    /// first run and merging keeps the earlier chunk's, so the cell keeps chunk 0's whatever
    /// the threads or shards.
    #[serde(default)]
    pub trace: Vec<(u64, f64)>,
}

impl Accumulator for TrapRuns {
    fn merge(&mut self, later: Self) {
        self.times.merge(later.times);
        self.final_distance.merge(&later.final_distance);
        if self.trace.is_empty() {
            self.trace = later.trace;
        }
    }

    fn replicates(&self) -> u64 {
        self.times.runs()
    }
}

/// The resolved scenario.
pub struct DegenerateTrap {
    cells: Vec<(Terrain, MethodName, f64)>,
    replicates: u64,
    chunk: u64,
    budget: u64,
    learning_rate: f64,
    slope: f64,
    epsilon: f64,
    momentum: f64,
    adam: (f64, f64),
}

/// The trap's position x* on the half-trap terrain.
const TRAP: f64 = 1.0;

impl Experiment for DegenerateTrap {
    type Accumulator = TrapRuns;
    const SPEC: &'static str = include_str!("../../../scenarios/degenerate-trap.toml");

    fn from_params(table: &Table) -> Result<Self, ParamError> {
        let mut p = ParamReader::new(table);
        let replicates = p.integer("replicates", 1..=1_000_000_000)?;
        let chunk = p.integer("chunk", 1..=1_000_000_000)?;
        let budget = p.integer("budget", 1..=1_000_000_000_000)?;
        let learning_rate = p.number("learning_rate", 0.0..=1.0, true)?;
        let slope = p.number("trap_slope", 0.0..=1e6, true)?;
        let epsilon = p.number("epsilon", 0.0..=1.0, true)?;
        let noise = p.number_list("noise_levels", 0.0..=1e3, true)?;
        let momentum = p.number("momentum", 0.0..=1.0, true)?;
        let adam = (
            p.number("adam_beta1", 0.0..=1.0, false)?,
            p.number("adam_beta2", 0.0..=1.0, true)?,
        );
        p.finish("degenerate-trap")?;
        let mut cells = Vec::new();
        for terrain in [Terrain::HalfTrap, Terrain::Cubic, Terrain::Quartic] {
            cells.push((terrain, MethodName::Gd, 0.0));
            for &sigma in &noise {
                cells.push((terrain, MethodName::NoisyGd, sigma));
            }
            cells.push((terrain, MethodName::Momentum, 0.0));
            cells.push((terrain, MethodName::Adam, 0.0));
        }
        Ok(DegenerateTrap {
            cells,
            replicates,
            chunk,
            budget,
            learning_rate,
            slope,
            epsilon,
            momentum,
            adam,
        })
    }

    fn work(&self) -> Vec<CellWork> {
        self.cells
            .iter()
            .map(|(terrain, method, sigma)| CellWork {
                // GD is deterministic here: one run says everything.
                replicates: if *method == MethodName::Gd {
                    1
                } else {
                    self.replicates
                },
                chunk: self.chunk,
                key: CellKey::new(&format!(
                    "{} method={method} noise={sigma:?}",
                    terrain.name()
                )),
            })
            .collect()
    }

    fn simulate(&self, cell: usize, replicates: u64, rng: &mut StreamRng, stop: Stop) -> TrapRuns {
        let (terrain, method, sigma) = self.cells[cell];
        let loss = match terrain {
            Terrain::HalfTrap => DegenerateLoss::HalfTrap {
                c: self.slope,
                trap: TRAP,
            },
            Terrain::Cubic => DegenerateLoss::Cubic,
            Terrain::Quartic => DegenerateLoss::Quartic,
        };
        let objective = DegenerateTerrain { loss, dimension: 1 };
        let method = MethodSettings {
            sigma,
            momentum: self.momentum,
            adam: (self.adam.0, self.adam.1, 1e-12),
            ..MethodSettings::default()
        }
        .method(method);
        let mut optimizer = Optimizer::new(
            OptimizerConfig {
                method,
                learning_rate: self.learning_rate,
                clip: None,
            },
            1,
            0,
        );
        let (start, critical) = match terrain {
            Terrain::HalfTrap => (TRAP - 1.0, TRAP),
            _ => (1.0, 0.0),
        };
        let epsilon = self.epsilon;
        let reached = move |x: &[f64]| match terrain {
            Terrain::HalfTrap => x[0] >= TRAP + 1.0,
            Terrain::Cubic => x[0] <= -1.0,
            Terrain::Quartic => x[0].abs() <= epsilon,
        };
        let distance = move |x: f64| match terrain {
            Terrain::HalfTrap => (TRAP + 1.0 - x).max(0.0),
            Terrain::Cubic => (x + 1.0).max(0.0),
            Terrain::Quartic => (x.abs() - epsilon).max(0.0),
        };
        let mut runs = TrapRuns::default();
        for replicate in 0..replicates {
            optimizer.reset();
            let mut x = [start];
            // The first run of the chunk also records its trajectory (`reached` sees every
            // iterate, from step 0).
            let trace = std::cell::RefCell::new(Vec::new());
            let (step, next) = (std::cell::Cell::new(0u64), std::cell::Cell::new(0u64));
            let watched = |x: &[f64]| {
                let t = step.replace(step.get() + 1);
                if replicate == 0 && t >= next.get() {
                    trace.borrow_mut().push((t, distance(x[0])));
                    next.set((t + 1).max((t as f64 * 1.1).ceil() as u64));
                }
                reached(x)
            };
            let passage = first_passage(
                &mut optimizer,
                &objective,
                &mut x,
                self.budget,
                rng,
                stop,
                watched,
            );
            if replicate == 0 {
                let mut trace = trace.into_inner();
                let last = step.get().saturating_sub(1);
                if trace.last().is_some_and(|&(t, _)| t < last) {
                    trace.push((last, distance(x[0])));
                }
                runs.trace = trace;
            }
            if matches!(passage, crate::optim::Passage::Censored) {
                runs.final_distance.push((x[0] - critical).abs());
            }
            runs.times.record(passage);
        }
        runs
    }

    fn report(&self, cells: &[TrapRuns]) -> Result<Report, StatsError> {
        let mut table = DataTable::new(
            "",
            &[
                &["terrain", "method", "noise", "learning_rate", "target"][..],
                &ESCAPE_COLUMNS[..],
                &[
                    "final_distance_to_critical_point",
                    "outcome",
                    "theory_steps",
                    "theory_source",
                    "article",
                ][..],
            ]
            .concat(),
        );
        for ((terrain, method, sigma), runs) in self.cells.iter().zip(cells) {
            let (theory, source) = self.theory(*terrain, *method);
            let target = match terrain {
                Terrain::HalfTrap => format!("x >= x* + 1 (x* = {TRAP})"),
                Terrain::Cubic => "x <= -1".into(),
                Terrain::Quartic => format!("|x| <= {}", self.epsilon),
            };
            let mut row: Vec<Datum> = vec![
                terrain.name().into(),
                method.name().into(),
                (*method == MethodName::NoisyGd).then_some(*sigma).into(),
                self.learning_rate.into(),
                target.into(),
            ];
            row.extend(escape_values(&runs.times));
            let final_distance =
                (runs.final_distance.count() > 0).then(|| runs.final_distance.mean());
            row.extend([
                final_distance.into(),
                self.outcome(*terrain, *method, runs).into(),
                theory.into(),
                source.into(),
                "never arrives".into(),
            ]);
            table.push(row);
        }
        let (traces, plots) = self.trajectories(cells);
        Ok(Report {
            tables: vec![table, traces],
            findings: self.findings(cells),
            plots,
        })
    }
}

impl DegenerateTrap {
    /// The `degenerate-trap-traces` table (terrain, method, noise, step, distance to the
    /// target along each cell's first run) and one figure per terrain of those distances
    /// against the steps, both on log axes: GD's line levels off at the trap's distance (or
    /// falls only algebraically), the others drop to the target.
    fn trajectories(&self, cells: &[TrapRuns]) -> (DataTable, Vec<Plot>) {
        let mut table = DataTable::new(
            "traces",
            &["terrain", "method", "noise", "step", "distance_to_target"],
        );
        let mut plots: Vec<Plot> = Vec::new();
        for ((terrain, method, sigma), runs) in self.cells.iter().zip(cells) {
            let name = terrain.name().to_string();
            if !plots.iter().any(|p| p.name == name) {
                let mut plot = Plot::new(
                    &name,
                    &format!(
                        "{}: distance to the target along the first run",
                        terrain.name()
                    ),
                    "steps (log scale)",
                    "distance to the target (log scale; 0 = arrived)",
                );
                plot.log_x = true;
                plot.log_y = true;
                plots.push(plot);
            }
            let label = if *method == MethodName::NoisyGd {
                format!("noisy-gd sigma={sigma}")
            } else {
                method.name().to_string()
            };
            let plot = plots
                .iter_mut()
                .find(|p| p.name == name)
                .expect("pushed above");
            for &(step, distance) in &runs.trace {
                table.push(vec![
                    terrain.name().into(),
                    method.name().into(),
                    (*method == MethodName::NoisyGd).then_some(*sigma).into(),
                    step.into(),
                    distance.into(),
                ]);
                plot.add(label.clone(), (step as f64, distance));
            }
        }
        (table, plots)
    }

    /// GD's closed forms: never (half trap, cubic), or `(ε⁻² − 1)/(2η)` steps (quartic).
    fn theory(&self, terrain: Terrain, method: MethodName) -> (Option<f64>, &'static str) {
        match (terrain, method) {
            (Terrain::HalfTrap, MethodName::Gd) => {
                (None, "never: x* - x_k = (1 - eta c)^k (x* - x_0)")
            }
            (Terrain::Cubic, MethodName::Gd) => (None, "never: x_k <= 1/(1/x_0 + eta k) -> 0"),
            (Terrain::Quartic, MethodName::Gd) => (
                Some((self.epsilon.powi(-2) - 1.0) / (2.0 * self.learning_rate)),
                "(eps^-2 - 1)/(2 eta)",
            ),
            _ => (None, "no closed form"),
        }
    }

    /// What became of the runs: arrive, converge to the degenerate critical point, or crawl.
    fn outcome(&self, terrain: Terrain, method: MethodName, runs: &TrapRuns) -> String {
        let total = runs.times.runs().max(1);
        let failed = runs.times.diverged + runs.times.underflow;
        if failed == total {
            return format!("diverged in all {total} runs (no step count)");
        }
        let failures = if failed > 0 {
            format!("; {failed} of {total} runs diverged")
        } else {
            String::new()
        };
        self.arrival(terrain, method, runs) + &failures
    }

    /// The outcome of the runs that did not diverge.
    fn arrival(&self, terrain: Terrain, method: MethodName, runs: &TrapRuns) -> String {
        let total = runs.times.runs().max(1);
        let arrived = runs.times.steps.count();
        let distance = runs.final_distance.mean();
        // GD on the cubic from x₀ = 1 stays below the bound 1/(1 + ηk) of the closed form.
        let algebraic_bound = 1.0 / (1.0 + self.learning_rate * self.budget as f64);
        if arrived == 0 && runs.final_distance.count() > 0 && distance < 1e-6 {
            "never: converges to the degenerate critical point".into()
        } else if arrived == 0 && terrain == Terrain::Cubic && distance <= algebraic_bound {
            format!(
                "never: converges to the degenerate saddle like 1/(eta k), {} away after the budget",
                short(distance)
            )
        } else if arrived == 0 {
            "never within the budget".into()
        } else if let (Terrain::Quartic, MethodName::Gd, (Some(law), _)) =
            (terrain, method, self.theory(terrain, method))
        {
            // The crawl is measured: GD's steps against the algebraic law (ε⁻² − 1)/(2η).
            format!(
                "crawls: arrives in {} steps, {:.4} x the algebraic law (eps^-2 - 1)/(2 eta)",
                runs.times.steps.mean(),
                runs.times.steps.mean() / law
            )
        } else if arrived + runs.times.diverged + runs.times.underflow == total {
            "arrives".into()
        } else {
            format!("arrives in {arrived} of {total} runs")
        }
    }

    fn findings(&self, cells: &[TrapRuns]) -> Vec<Finding> {
        let mut findings = Vec::new();
        for terrain in [Terrain::HalfTrap, Terrain::Cubic, Terrain::Quartic] {
            let rows: Vec<(MethodName, f64, &TrapRuns)> = self
                .cells
                .iter()
                .zip(cells)
                .filter(|((t, _, _), _)| *t == terrain)
                .map(|((_, m, s), r)| (*m, *s, r))
                .collect();
            let gd = rows
                .iter()
                .find(|(m, _, _)| *m == MethodName::Gd)
                .map(|(_, _, r)| *r);
            let others: Vec<String> = rows
                .iter()
                .filter(|(m, _, _)| *m != MethodName::Gd)
                .map(|(m, s, r)| {
                    format!(
                        "{m}{}: {}",
                        if *m == MethodName::NoisyGd {
                            format!("(sigma={s})")
                        } else {
                            String::new()
                        },
                        if r.times.steps.count() > 0 {
                            format!("{} steps", short(r.times.steps.mean()))
                        } else {
                            "never".into()
                        }
                    )
                })
                .collect();
            let gd_text = gd.map_or_else(String::new, |r| self.outcome(terrain, MethodName::Gd, r));
            let others_arrive = rows
                .iter()
                .filter(|(m, _, _)| *m != MethodName::Gd)
                .all(|(_, _, r)| r.times.steps.count() == r.times.runs());
            let gd_never = gd.is_some_and(|r| r.times.steps.count() == 0);
            let (article, verdict) = match terrain {
                Terrain::Quartic => (
                    "the walker crawls towards the minimum".to_string(),
                    if gd.is_some_and(|r| r.times.steps.count() > 0) {
                        Verdict::SupportedWithCorrection
                    } else {
                        Verdict::Inconclusive
                    },
                ),
                _ => (
                    "GD never covers the last metre".to_string(),
                    if gd_never && others_arrive {
                        Verdict::SupportedWithCorrection
                    } else if gd_never {
                        Verdict::Supported
                    } else {
                        Verdict::Refuted
                    },
                ),
            };
            findings.push(Finding {
                claim: "C8".into(),
                subject: terrain.name().into(),
                article,
                theory: self.theory(terrain, MethodName::Gd).1.into(),
                measured: format!("GD: {gd_text}{}; {}", gd.filter(|r| r.times.steps.count() > 0).map_or(String::new(), |r| format!(" after {} steps", short(r.times.steps.mean()))), others.join(", ")),
                verdict,
                test: format!("does each optimizer reach the target within {} steps in every run? The picture holds (with the correction that it is plain GD's, and only at a degenerate critical point or a degenerate minimum) when GD never arrives or crawls while noise, momentum and Adam arrive", self.budget),
            });
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::Passage;
    use crate::scenarios::spec::ScenarioSpec;

    fn quick() -> DegenerateTrap {
        let spec = ScenarioSpec::parse(DegenerateTrap::SPEC, "degenerate-trap.toml").unwrap();
        DegenerateTrap::from_params(&spec.profile("quick").unwrap()).unwrap()
    }

    /// A cell where every run diverged used to read "never" (as if GD had converged to the
    /// degenerate point); it must say that the runs diverged.
    #[test]
    fn divergences_are_named_not_read_as_never() {
        let trap = quick();
        let mut runs = TrapRuns::default();
        for _ in 0..5 {
            runs.times.record(Passage::Diverged);
        }
        assert_eq!(
            trap.outcome(Terrain::HalfTrap, MethodName::Adam, &runs),
            "diverged in all 5 runs (no step count)"
        );
        runs.times.record(Passage::Reached(3));
        assert_eq!(
            trap.outcome(Terrain::HalfTrap, MethodName::Adam, &runs),
            "arrives; 5 of 6 runs diverged"
        );
    }

    /// Synthetic runs: GD censored (never arrives) or arriving in 100 steps on the half trap
    /// and the cubic, arriving on the quartic; the other methods arrive unless `others_fail`.
    fn runs(trap: &DegenerateTrap, gd_arrives: bool, others_fail: bool) -> Vec<TrapRuns> {
        trap.cells
            .iter()
            .map(|(terrain, method, _)| {
                let mut r = TrapRuns::default();
                let arrives = match (method, terrain) {
                    (MethodName::Gd, Terrain::Quartic) => true,
                    (MethodName::Gd, _) => gd_arrives,
                    _ => !others_fail,
                };
                for _ in 0..4 {
                    r.times.record(if arrives {
                        Passage::Reached(100)
                    } else {
                        Passage::Censored
                    });
                }
                r
            })
            .collect()
    }

    fn verdicts(trap: &DegenerateTrap, cells: &[TrapRuns]) -> Vec<(String, Verdict)> {
        trap.findings(cells)
            .into_iter()
            .map(|f| (f.subject, f.verdict))
            .collect()
    }

    /// "GD never covers the last metre": with the correction when GD never arrives but the
    /// other methods do; supported when nothing arrives; refuted when GD arrives. The
    /// quartic, where GD crawls, is supported with correction whenever GD arrives.
    #[test]
    fn the_trap_verdicts_follow_their_stated_test() {
        let trap = quick();
        for (gd_arrives, others_fail, expected) in [
            (false, false, Verdict::SupportedWithCorrection),
            (false, true, Verdict::Supported),
            (true, false, Verdict::Refuted),
        ] {
            for (subject, verdict) in verdicts(&trap, &runs(&trap, gd_arrives, others_fail)) {
                let want = if subject == Terrain::Quartic.name() {
                    Verdict::SupportedWithCorrection
                } else {
                    expected
                };
                assert_eq!(
                    verdict, want,
                    "{subject}: gd {gd_arrives}, others fail {others_fail}"
                );
            }
        }
    }
}
