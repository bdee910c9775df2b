//! Plateaus of deep linear networks (Saxe, McClelland & Ganguli, ICLR 2014): steps until the
//! loss falls below `s²/8` (the teacher's mode half learned) from an initialisation of
//! product scale u₀, against depth, u₀, s and η, for GD and minibatch SGD and three
//! initialisations.

use super::super::escape::{ESCAPE_COLUMNS, EscapeTimes, escape_values};
use super::super::params::{ParamError, ParamReader};
use crate::choice::Choice;
use crate::landscape::{
    DeepLinearNet, Initialisation, Objective, decoupled_gd_steps, saxe_learning_steps,
};
use crate::mc::{CellWork, Stop, StreamRng};
use crate::optim::{Method, Optimizer, OptimizerConfig, first_passage};
use crate::report::{DataTable, Datum, Finding, Look, Plot, Verdict, short};
use crate::stats::{StatsError, z_test};

/// One grid cell.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cell {
    depth: usize,
    scale: f64,
    singular_value: f64,
    learning_rate: f64,
    init: Initialisation,
    /// Minibatch size; `None` is full-batch GD.
    batch: Option<usize>,
}

impl Cell {
    /// Decoupled GD is deterministic (the scalar recursion): one run says everything.
    fn deterministic(&self) -> bool {
        self.init == Initialisation::Decoupled && self.batch.is_none()
    }

    /// Loss level that ends the plateau: `½(s − s/2)² = s²/8`.
    fn level(&self) -> f64 {
        self.singular_value * self.singular_value / 8.0
    }
}

/// The deep-linear-network part of `plateau-crossing`.
pub struct DeepLinearPart {
    cells: Vec<Cell>,
    width: usize,
    examples: usize,
    replicates: u64,
    chunk: u64,
    budget: u64,
}

impl DeepLinearPart {
    /// Reads the `deep_*` parameters.
    pub fn from_params(p: &mut ParamReader) -> Result<Self, ParamError> {
        let depths = p.integer_list("deep_depths", 2..=16)?;
        let scales = p.number_list("deep_scales", 0.0..=0.1, true)?;
        let singular_values = p.number_list("deep_singular_values", 0.0..=100.0, true)?;
        let rates = p.number_list("deep_learning_rates", 0.0..=1.0, true)?;
        let inits = p.choices_of("deep_inits", Initialisation::ALL, false)?;
        let batches = p.integer_list("deep_batches", 0..=4096)?;
        let width = p.integer("deep_width", 1..=16)? as usize;
        let examples = p.integer("deep_examples", 1..=4096)? as usize;
        let replicates = p.integer("deep_replicates", 1..=1_000_000_000)?;
        let chunk = p.integer("deep_chunk", 1..=1_000_000_000)?;
        let budget = p.integer("deep_budget", 1..=1_000_000_000_000)?;
        if let Some((s, eta)) = singular_values
            .iter()
            .flat_map(|&s| rates.iter().map(move |&eta| (s, eta)))
            .find(|(s, eta)| s * eta >= 0.5)
        {
            return Err(ParamError::Invalid {
                key: "deep_learning_rates".into(),
                expected: "eta * s < 0.5 for every singular value (small steps on the mode, so the Euler error against Saxe et al.'s ODE stays small)"
                    .into(),
                got: format!("eta = {eta} with s = {s}"),
            });
        }
        let mut cells = Vec::new();
        for &depth in &depths {
            for &scale in &scales {
                for &singular_value in &singular_values {
                    for &learning_rate in &rates {
                        for &init in &inits {
                            for &batch in &batches {
                                cells.push(Cell {
                                    depth: depth as usize,
                                    scale,
                                    singular_value,
                                    learning_rate,
                                    init,
                                    batch: (batch > 0).then_some(batch as usize),
                                });
                            }
                        }
                    }
                }
            }
        }
        Ok(DeepLinearPart {
            cells,
            width,
            examples,
            replicates,
            chunk,
            budget,
        })
    }

    /// Work per cell: one run for the deterministic cells, `deep_replicates` otherwise.
    pub fn work(&self) -> Vec<CellWork> {
        self.cells
            .iter()
            .map(|c| {
                let replicates = if c.deterministic() {
                    1
                } else {
                    self.replicates
                };
                CellWork::keyed(
                    &format!(
                        "deep-linear depth={} scale={:?} s={:?} eta={:?} init={} batch={}",
                        c.depth,
                        c.scale,
                        c.singular_value,
                        c.learning_rate,
                        c.init.name(),
                        c.batch.map_or("full".to_string(), |b| b.to_string())
                    ),
                    replicates,
                    self.chunk,
                )
            })
            .collect()
    }

    /// Trains `replicates` fresh networks (new teacher, data and initialisation each).
    pub fn simulate(
        &self,
        cell: usize,
        replicates: u64,
        rng: &mut StreamRng,
        stop: Stop,
    ) -> EscapeTimes {
        let c = self.cells[cell];
        let method = match c.batch {
            Some(batch) => Method::Sgd { batch },
            None => Method::Gd,
        };
        let mut times = EscapeTimes::default();
        for _ in 0..replicates {
            let net =
                DeepLinearNet::teacher(self.width, c.depth, c.singular_value, self.examples, rng);
            let mut theta = vec![0.0; net.dimension()];
            net.initialise(c.init, c.scale, &mut theta, rng);
            let config = OptimizerConfig {
                method,
                learning_rate: c.learning_rate,
                clip: None,
            };
            let mut optimizer = Optimizer::new(config, theta.len(), net.examples());
            let level = c.level();
            times.record(first_passage(
                &mut optimizer,
                &net,
                &mut theta,
                self.budget,
                rng,
                stop,
                |x| net.value(x) <= level,
            ));
        }
        times
    }

    /// Saxe et al.'s continuous-time prediction (τ = 1/η) from u₀ to s/2.
    fn theory(c: &Cell) -> f64 {
        saxe_learning_steps(
            c.depth,
            c.singular_value,
            c.scale,
            c.singular_value / 2.0,
            c.learning_rate,
        )
    }

    /// The exact discrete-time count of the decoupled dynamics.
    fn recursion(&self, c: &Cell) -> Option<u64> {
        decoupled_gd_steps(
            c.depth,
            c.singular_value,
            c.scale,
            c.level(),
            c.learning_rate,
            self.budget,
        )
    }

    /// The `plateau-crossing-deep-linear` table.
    pub fn table(&self, cells: &[EscapeTimes]) -> DataTable {
        let mut table = DataTable::new(
            "deep-linear",
            &[
                &[
                    "depth",
                    "u0",
                    "singular_value",
                    "learning_rate",
                    "init",
                    "method",
                    "batch",
                ][..],
                &ESCAPE_COLUMNS[..],
                &[
                    "theory_steps",
                    "theory_source",
                    "asymptotic_steps",
                    "decoupled_gd_steps",
                ][..],
            ]
            .concat(),
        );
        for (c, times) in self.cells.iter().zip(cells) {
            let mut row: Vec<Datum> = vec![
                (c.depth as u64).into(),
                c.scale.into(),
                c.singular_value.into(),
                c.learning_rate.into(),
                c.init.name().into(),
                if c.batch.is_some() { "sgd" } else { "gd" }.into(),
                c.batch.map(|b| b as f64).into(),
            ];
            row.extend(escape_values(times));
            row.extend([
                Self::theory(c).into(),
                if c.depth == 2 {
                    "Saxe et al. 2014 eq. 11, tau = 1/eta"
                } else {
                    "Saxe et al. 2014 ODE tau du/dt = D u^(2-2/D) (s-u), tau = 1/eta"
                }
                .into(),
                (c.depth > 2)
                    .then(|| {
                        let d = c.depth as f64;
                        c.scale.powf(-(1.0 - 2.0 / d))
                            / (c.learning_rate * c.singular_value * (d - 2.0))
                    })
                    .into(),
                self.recursion(c).map(|t| t as f64).into(),
            ]);
            table.push(row);
        }
        table
    }

    /// Two findings: the plateau against u₀ and depth (decoupled GD against Saxe et al.),
    /// and orthogonal against Gaussian initialisation (C9).
    pub fn findings(&self, cells: &[EscapeTimes]) -> Result<Vec<Finding>, StatsError> {
        Ok(vec![self.plateau_finding(cells), self.init_finding(cells)])
    }

    fn plateau_finding(&self, cells: &[EscapeTimes]) -> Finding {
        let mut worst_step_gap = 0u64;
        let mut worst_ode = 0.0f64;
        let mut monotone = true;
        let mut exponents = Vec::new();
        let decoupled: Vec<(&Cell, &EscapeTimes)> = self
            .cells
            .iter()
            .zip(cells)
            .filter(|(c, _)| c.deterministic())
            .collect();
        let mut censored = 0;
        let (all_runs, all_diverged, all_censored) =
            cells.iter().fold((0, 0, 0), |(n, d, c), t| {
                (n + t.runs(), d + t.diverged + t.underflow, c + t.censored)
            });
        for (c, t) in &decoupled {
            censored += t.censored + t.diverged + t.underflow;
            if t.steps.count() == 0 {
                continue;
            }
            let measured = t.steps.mean();
            if let Some(exact) = self.recursion(c) {
                worst_step_gap = worst_step_gap.max((measured as u64).abs_diff(exact));
            }
            worst_ode = worst_ode.max((measured / Self::theory(c) - 1.0).abs());
        }
        // Along u₀ (sorted decreasing) at fixed everything else: the plateau must lengthen;
        // the local exponent d ln t / d ln(1/u₀) between the two smallest u₀.
        let first = decoupled.first().map(|(c, _)| **c);
        for depth in self.depths() {
            let mut line: Vec<(f64, f64)> = decoupled
                .iter()
                .filter(|(c, t)| {
                    first.is_some_and(|f| {
                        c.depth == depth
                            && c.singular_value == f.singular_value
                            && c.learning_rate == f.learning_rate
                    }) && t.steps.count() > 0
                })
                .map(|(c, t)| (c.scale, t.steps.mean()))
                .collect();
            line.sort_by(|a, b| b.0.total_cmp(&a.0));
            monotone &= line.windows(2).all(|w| w[1].1 > w[0].1);
            if let [.., (u1, t1), (u2, t2)] = line[..] {
                exponents.push(format!(
                    "D={depth}: {:.3} (1-2/D = {:.3})",
                    (t2 / t1).ln() / (u1 / u2).ln(),
                    1.0 - 2.0 / depth as f64
                ));
            }
        }
        Finding {
            claim: "C7".into(),
            subject: "deep linear network plateau".into(),
            article: "plateaus, not minima, are what slows training".into(),
            theory: "Saxe et al. 2014: t = (tau/2s) ln[u_f(s-u0)/(u0(s-u_f))] at D = 2; power law u0^-(1-2/D) at D >= 3".into(),
            measured: format!(
                "decoupled GD within {worst_step_gap} step(s) of the exact recursion and within {:.1}% of the continuous-time formula; local exponents {}{}",
                100.0 * worst_ode,
                exponents.join(", "),
                if all_diverged + all_censored > 0 {
                    format!("; over all {all_runs} runs (every init): {all_diverged} diverged, {all_censored} censored")
                } else {
                    String::new()
                }
            ),
            verdict: if decoupled.is_empty() {
                Verdict::Inconclusive
            } else if worst_step_gap <= 1 && monotone && censored == 0 {
                Verdict::Supported
            } else {
                Verdict::Refuted
            },
            test: "supported if decoupled-init GD crosses within one step of Saxe et al.'s dynamics in discrete time (rounding can move a borderline crossing by one step) and the plateau lengthens as u0 shrinks at every depth; the continuous-time gap is the O(eta s) Euler error".into(),
        }
    }

    fn depths(&self) -> Vec<usize> {
        let mut depths: Vec<usize> = self.cells.iter().map(|c| c.depth).collect();
        depths.dedup();
        depths
    }

    /// Orthogonal against Gaussian at equal gain: z of the difference of mean plateau
    /// lengths, per depth (the verdict at the largest), at the smallest u₀ and the first s,
    /// η and batch setting.
    fn init_finding(&self, cells: &[EscapeTimes]) -> Finding {
        let smallest = self
            .cells
            .iter()
            .map(|c| c.scale)
            .fold(f64::INFINITY, f64::min);
        let first = self.cells[0];
        let find = |depth: usize, init: Initialisation| {
            self.cells.iter().zip(cells).find(|(c, _)| {
                c.depth == depth
                    && c.scale == smallest
                    && c.singular_value == first.singular_value
                    && c.learning_rate == first.learning_rate
                    && c.batch == first.batch
                    && c.init == init
            })
        };
        let mut parts = Vec::new();
        let mut deepest = None;
        for depth in self.depths() {
            let (Some((_, gauss)), Some((_, orth))) = (
                find(depth, Initialisation::Gaussian),
                find(depth, Initialisation::Orthogonal),
            ) else {
                continue;
            };
            if gauss.steps.count() < 2 || orth.steps.count() < 2 {
                let failed = |t: &EscapeTimes| t.runs() - t.steps.count();
                parts.push(format!(
                    "D={depth}: not compared ({} of {} orthogonal and {} of {} gaussian runs diverged or were censored)",
                    failed(orth),
                    orth.runs(),
                    failed(gauss),
                    gauss.runs()
                ));
                continue;
            }
            let se =
                (gauss.steps.standard_error().powi(2) + orth.steps.standard_error().powi(2)).sqrt();
            let z = z_test(orth.steps.mean() - gauss.steps.mean(), 0.0, se).statistic;
            deepest = Some(z);
            parts.push(format!(
                "D={depth}: orthogonal {} vs gaussian {} steps (z = {z:.1})",
                short(orth.steps.mean()),
                short(gauss.steps.mean())
            ));
        }
        Finding {
            claim: "C9".into(),
            subject: "deep linear: orthogonal vs gaussian init".into(),
            article: "better initialisation shortens the plateau".into(),
            theory: "Saxe et al. 2014 sec. 3: random orthogonal layers keep every mode's strength, Gaussian products spread it".into(),
            measured: format!("u0 = {}: {}", short(smallest), parts.join("; ")),
            verdict: match deepest {
                Some(z) if z < -5.0 => Verdict::Supported,
                Some(z) if z > 5.0 => Verdict::Refuted,
                _ => Verdict::Inconclusive,
            },
            test: "two-sample z test of the mean plateau length (orthogonal minus Gaussian) at the smallest u0 and the largest depth, where products of Gaussian layers spread most; supported if z < -5, refuted if z > 5".into(),
        }
    }

    /// Steps (log axis, mean ± 2 SE) against log10(1/u₀), one line per depth and
    /// initialisation, with Saxe et al.'s continuous-time prediction dashed per depth. Each
    /// depth has one colour (its prediction dashed in it) and each initialisation one marker
    /// (decoupled circles, Gaussian squares, orthogonal triangles).
    pub fn plot(&self, cells: &[EscapeTimes]) -> Plot {
        let depths = self.depths();
        let look = |depth: usize, init: Option<Initialisation>| Look {
            colour: depths.iter().position(|&d| d == depth).unwrap_or(0),
            marker: match init {
                Some(Initialisation::Gaussian) => 1,
                Some(Initialisation::Orthogonal) => 2,
                Some(Initialisation::Decoupled) | None => 0,
            },
        };
        let first = self.cells[0];
        let mut plot = Plot::new(
            "deep-linear",
            "Deep linear network: plateau length (mean ± 2 SE; dashed: Saxe et al.)",
            "log10 (1/u0)",
            "steps to loss s^2/8 (log scale)",
        );
        plot.log_y = true;
        for (c, t) in self.cells.iter().zip(cells) {
            if c.singular_value == first.singular_value
                && c.learning_rate == first.learning_rate
                && c.batch == first.batch
                && t.steps.count() > 0
            {
                let x = -c.scale.log10();
                let theory = format!("Saxe et al. D={}", c.depth);
                let drawn = plot
                    .series
                    .iter()
                    .any(|(l, points)| *l == theory && points.iter().any(|p| p.0 == x));
                if !drawn {
                    plot.set_look(&theory, look(c.depth, None));
                    plot.add_reference(theory, (x, Self::theory(c)));
                }
                let label = format!("D={} {}", c.depth, c.init.name());
                plot.set_look(&label, look(c.depth, Some(c.init)));
                plot.add_with_interval(label, (x, t.steps.mean()), t.steps.band(2.0));
            }
        }
        plot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::Passage;

    /// A small part at depth 3 with `sets` appended (which may name other depths).
    fn part(sets: &str) -> DeepLinearPart {
        let depths = if sets.contains("deep_depths") {
            ""
        } else {
            "deep_depths = [3]\n"
        };
        let table: toml::Table = format!(
            "{depths}deep_scales = [0.01]\ndeep_singular_values = [1.0]\ndeep_learning_rates = [0.1]\ndeep_inits = [\"decoupled\", \"gaussian\", \"orthogonal\"]\ndeep_batches = [0]\ndeep_width = 4\ndeep_examples = 8\ndeep_replicates = 10\ndeep_chunk = 5\ndeep_budget = 1000\n{sets}"
        )
        .parse()
        .unwrap();
        let mut reader = ParamReader::new(&table);
        DeepLinearPart::from_params(&mut reader).unwrap()
    }

    /// Divergences of the random inits used to vanish from the verdict line (only the
    /// decoupled cells were counted) and a depth whose runs diverged was dropped from the
    /// init comparison without a word.
    #[test]
    fn divergences_of_every_cell_are_reported() {
        let part = part("");
        let cells: Vec<EscapeTimes> = part
            .cells
            .iter()
            .map(|c| {
                let mut t = EscapeTimes::default();
                if c.init == Initialisation::Decoupled {
                    t.record(Passage::Reached(100));
                } else {
                    for _ in 0..97 {
                        t.record(Passage::Diverged);
                    }
                    t.record(Passage::Reached(90));
                }
                t
            })
            .collect();
        let plateau = part.plateau_finding(&cells);
        assert!(
            plateau.measured.contains("194 diverged"),
            "{}",
            plateau.measured
        );
        let init = part.init_finding(&cells);
        assert!(
            init.measured.contains("D=3: not compared (97 of 98 orthogonal and 97 of 98 gaussian runs diverged or were censored)"),
            "{}",
            init.measured
        );
        assert_eq!(init.verdict, Verdict::Inconclusive);
    }

    /// Twelve series used to cycle a seven-colour palette, so two depths could share a colour;
    /// now a depth is one colour (its prediction dashed in it) and an initialisation one marker.
    #[test]
    fn the_figure_colours_by_depth_and_marks_by_initialisation() {
        let part = part("deep_depths = [2, 3]");
        let cells: Vec<EscapeTimes> = part
            .cells
            .iter()
            .map(|_| {
                let mut t = EscapeTimes::default();
                t.record(Passage::Reached(100));
                t.record(Passage::Reached(120));
                t
            })
            .collect();
        let plot = part.plot(&cells);
        let look = |label: &str| plot.look_of(label).map(|l| (l.colour, l.marker));
        assert_eq!(look("D=2 decoupled"), Some((0, 0)));
        assert_eq!(look("D=2 gaussian"), Some((0, 1)));
        assert_eq!(look("D=2 orthogonal"), Some((0, 2)));
        assert_eq!(look("D=3 gaussian"), Some((1, 1)));
        assert_eq!(look("Saxe et al. D=3").map(|l| l.0), Some(1));
        assert!(plot.references.contains(&"Saxe et al. D=3".to_string()));
        // Every drawn series has a look.
        assert!(plot.series.iter().all(|(label, _)| look(label).is_some()));
    }
}
