//! `remedies`: claim C9 — do the essay's remedies work? Initialisation (orthogonal layers at
//! gain 1, a standard scale instead of a small one), gradient clipping on a cliff, and
//! adaptive steps (Adam, RMSProp) against GD and momentum, each measured with and without the
//! remedy on the same seeds: steps to a stated target and the failure rate (diverged or out of
//! budget).
//!
//! A study is one landscape with several arms; every replicate draws one seed and runs every
//! arm from it (same landscape instance, same start law, same noise), so the comparisons are
//! paired. Verdicts per comparison: Fisher's exact test on the failure counts and the
//! Hodges–Lehmann interval of the paired log-ratio of steps, both at the Bonferroni level
//! over the family of comparisons ([`claims`]).

mod claims;
mod records;
mod studies;
#[cfg(test)]
mod tests;

use toml::Table;

use super::Experiment;
use super::params::{ParamError, ParamReader};
use crate::landscape::{MAX_COMMITTEE_UNITS, RecurrentCliff, Shelf};
use crate::mc::{CellWork, Stop, StreamRng, chunk_stream};
use crate::nets::{Dataset, Loss};
use crate::optim::MethodName;
use crate::report::Report;
use crate::stats::StatsError;
pub use records::{ArmRun, Failure, PairedRuns};
use studies::{Arm, Clip, Landscape, Landscapes, Remedy, Start, Study};

/// The resolved scenario.
pub struct Remedies {
    studies: Vec<Study>,
    landscapes: Landscapes,
    chunk: u64,
    significance: f64,
}

impl Experiment for Remedies {
    type Accumulator = PairedRuns;
    const SPEC: &'static str = include_str!("../../../scenarios/remedies.toml");

    fn from_params(table: &Table) -> Result<Self, ParamError> {
        let mut p = ParamReader::new(table);
        let replicates = p.integer("replicates", 2..=1_000_000)?;
        let network_replicates = p.integer("network_replicates", 2..=1_000_000)?;
        let chunk = p.integer("chunk", 1..=1_000_000)?;
        let significance = p.number("significance", 0.0..=0.5, false)?;
        let momentum = p.number("momentum", 0.0..=1.0, false)?;
        // Deep linear networks.
        let deep_width = p.integer("deep_width", 1..=256)? as usize;
        let deep_depth = p.integer("deep_depth", 1..=64)? as usize;
        let deep_s = p.number("deep_singular_value", 0.0..=1e3, false)?;
        let deep_examples = p.integer("deep_examples", 1..=1_000_000)? as usize;
        let deep_rate = p.number("deep_learning_rate", 0.0..=10.0, false)?;
        let deep_adaptive_rate = p.number("deep_adaptive_learning_rate", 0.0..=10.0, false)?;
        let deep_small = p.number("deep_small_scale", 0.0..=10.0, false)?;
        let deep_budget = p.integer("deep_budget", 1..=1_000_000_000)?;
        // The digits network.
        let hidden = p.integer("mlp_hidden", 1..=1024)? as usize;
        let examples = p.integer("mlp_examples", 10..=1797)? as usize;
        let mlp_small = p.number("mlp_small_gain", 0.0..=10.0, false)?;
        let mlp_target = p.number("mlp_target_loss", 0.0..=10.0, false)?;
        let mlp_rate = p.number("mlp_learning_rate", 0.0..=100.0, false)?;
        let mlp_adaptive_rate = p.number("mlp_adaptive_learning_rate", 0.0..=100.0, false)?;
        let mlp_budget = p.integer("mlp_budget", 1..=1_000_000_000)?;
        let bn_rates = p.number_list("bn_learning_rates", 0.0..=1e3, false)?;
        let bn_epsilon = p.number("bn_epsilon", 0.0..=1.0, false)?;
        let bn_target = p.number("bn_target_loss", 0.0..=10.0, false)?;
        let curvature_rate = p.number("bn_curvature_learning_rate", 0.0..=1e3, false)?;
        let loss_rates = p.number_list("loss_design_learning_rates", 0.0..=1e3, false)?;
        let accuracy_target = p.number("loss_design_target_accuracy", 0.0..=1.0, false)?;
        let loss_budget = p.integer("loss_design_budget", 1..=1_000_000_000)?;
        let bn_budget = p.integer("bn_budget", 1..=1_000_000_000)?;
        // The cliff.
        let cliff = RecurrentCliff {
            start: p.number("cliff_start", -1e3..=1e3, true)?,
            steps: p.integer("cliff_steps", 1..=10_000)? as usize,
            target: p.number("cliff_target", -1e3..=1e3, true)?,
        };
        let w_box = p.number_list("cliff_w_range", -1e3..=1e3, true)?;
        let b_box = p.number_list("cliff_b_range", -1e3..=1e3, true)?;
        let cliff_target = p.number("cliff_target_loss", 0.0..=1e3, false)?;
        let cliff_rates = p.number_list("cliff_learning_rates", 0.0..=1e3, false)?;
        let thresholds = p.number_list("clip_thresholds", 0.0..=1e6, false)?;
        let jump_factor = p.number("jump_factor", 1.0..=1e6, false)?;
        let cliff_budget = p.integer("cliff_budget", 1..=1_000_000_000)?;
        // The shelf and the half trap.
        let shelf = Shelf {
            width: p.number("shelf_width", 0.0..=1e6, false)?,
            slope: p.number("shelf_slope", 0.0..=1e3, false)?,
            steep: p.number("shelf_steep_slope", 0.0..=1e6, false)?,
            edge: p.number("shelf_edge", 0.0..=1e3, false)?,
            dimension: p.integer("shelf_dimension", 1..=1_000_000)? as usize,
        };
        let shelf_rate = p.number("shelf_learning_rate", 0.0..=1e3, false)?;
        let shelf_adaptive_rate = p.number("shelf_adaptive_learning_rate", 0.0..=1e3, false)?;
        let shelf_budget = p.integer("shelf_budget", 1..=1_000_000_000)?;
        let trap_slope = p.number("trap_slope", 0.0..=1e6, false)?;
        let trap_rate = p.number("trap_learning_rate", 0.0..=1e3, false)?;
        let trap_adaptive_rate = p.number("trap_adaptive_learning_rate", 0.0..=1e3, false)?;
        let trap_budget = p.integer("trap_budget", 1..=1_000_000_000)?;
        // The committee machine.
        let committee_inputs = p.integer("committee_inputs", 2..=100_000)? as usize;
        let committee_units = p.integer("committee_units", 1..=MAX_COMMITTEE_UNITS as u64)?;
        let committee_level = p.number("committee_level", 0.0..=1.0, false)?;
        let committee_small = p.number("committee_small_norm", 0.0..=100.0, false)?;
        let committee_norm = p.number("committee_norm", 0.0..=100.0, false)?;
        let committee_rate = p.number("committee_learning_rate", 0.0..=1e3, false)?;
        let committee_adaptive_rate =
            p.number("committee_adaptive_learning_rate", 0.0..=1e3, false)?;
        let committee_budget = p.integer("committee_budget", 1..=1_000_000_000)?;
        let split_seed = p.integer("split_seed", 0..=u64::MAX)?;
        p.finish("remedies")?;
        let pair = |name: &str, v: &[f64]| -> Result<(f64, f64), ParamError> {
            match v {
                [a, b] if a < b => Ok((*a, *b)),
                _ => Err(ParamError::Invalid {
                    key: name.into(),
                    expected: "two numbers, the first smaller".into(),
                    got: format!("{v:?}"),
                }),
            }
        };
        let cliff_box = (
            pair("cliff_w_range", &w_box)?,
            pair("cliff_b_range", &b_box)?,
        );
        let digits = Dataset::digits()
            .split(
                1.0 - examples as f64 / 1797.0,
                &mut chunk_stream(split_seed, "remedies digits", 0, 0),
            )
            .train;
        let landscapes = Landscapes {
            deep: (deep_width, deep_depth, deep_s, deep_examples),
            digits,
            hidden,
            mlp_target,
            accuracy_target,
            bn_target,
            cliff,
            cliff_box,
            cliff_target,
            jump_factor,
            shelf,
            trap_slope,
            committee: (committee_inputs, committee_units as usize),
            committee_level,
            momentum,
            batch_norm_epsilon: bn_epsilon,
            curvature_rate,
        };
        let studies = studies(&Settings {
            replicates,
            network_replicates,
            deep: (deep_rate, deep_adaptive_rate, deep_small, deep_budget),
            mlp: (mlp_rate, mlp_adaptive_rate, mlp_small, mlp_budget),
            batch_norm: (bn_rates, bn_budget),
            loss_design: (loss_rates, loss_budget),
            cliff: (cliff_rates, thresholds, cliff_budget),
            shelf: (shelf_rate, shelf_adaptive_rate, shelf_budget),
            trap: (trap_rate, trap_adaptive_rate, trap_budget),
            committee: (
                committee_rate,
                committee_adaptive_rate,
                committee_small,
                committee_norm,
                committee_budget,
            ),
        });
        Ok(Remedies {
            studies,
            landscapes,
            chunk,
            significance,
        })
    }

    fn work(&self) -> Vec<CellWork> {
        self.studies
            .iter()
            .map(|s| {
                let arms: Vec<String> = s.arms.iter().map(Arm::label).collect();
                CellWork::keyed(
                    &format!(
                        "{} {} budget={} arms=[{}]",
                        s.remedy.name(),
                        s.landscape.name(),
                        s.budget,
                        arms.join("; ")
                    ),
                    s.replicates,
                    self.chunk,
                )
            })
            .collect()
    }

    fn simulate(
        &self,
        cell: usize,
        replicates: u64,
        rng: &mut StreamRng,
        stop: Stop,
    ) -> PairedRuns {
        let study = &self.studies[cell];
        let mut runs = PairedRuns::default();
        for _ in 0..replicates {
            let arms = self.landscapes.replicate(study, rng, stop);
            if stop.requested() {
                break;
            }
            runs.runs.push(arms);
        }
        runs
    }

    fn report(&self, cells: &[PairedRuns]) -> Result<Report, StatsError> {
        claims::report(&self.studies, cells, self.significance)
    }
}

/// Learning rates, starts and budgets of the studies, from the parameter file.
struct Settings {
    replicates: u64,
    network_replicates: u64,
    /// (GD and momentum rate, adaptive rate, small scale, budget).
    deep: (f64, f64, f64, u64),
    mlp: (f64, f64, f64, u64),
    /// (rates, budget) of the batch-normalisation study.
    batch_norm: (Vec<f64>, u64),
    /// (rates, budget) of the loss-design study.
    loss_design: (Vec<f64>, u64),
    /// (rates, clipping thresholds, budget).
    cliff: (Vec<f64>, Vec<f64>, u64),
    /// (GD and momentum rate, adaptive rate, budget).
    shelf: (f64, f64, u64),
    trap: (f64, f64, u64),
    /// (GD and momentum rate, adaptive rate, small norm, standard norm, budget).
    committee: (f64, f64, f64, f64, u64),
}

/// The study list: initialisation on the deep linear network (Gaussian against orthogonal
/// layers at gain 1) and on the digits network (a small gain against gain 1); batch
/// normalisation on the digits network (for every rate and both starts, and each at its best
/// rate); loss design on the digits network (cross-entropy against squared error on the
/// softmax outputs, from the small start, for every rate and each at its best); clipping on
/// the cliff (for every rate, norm and value clipping at every threshold
/// against none, and each rule at its best rate); adaptive
/// steps on the deep linear plateau, the digits network from a small start, the shelf and the
/// half trap (Adam and RMSProp each against GD and against momentum).
fn studies(s: &Settings) -> Vec<Study> {
    let arm = |method, learning_rate, start| Arm {
        method,
        learning_rate,
        start,
        clip: Clip::None,
        batch_norm: false,
        loss: Loss::CrossEntropy,
    };
    let mut studies = vec![
        Study {
            remedy: Remedy::Initialisation,
            landscape: Landscape::DeepLinear,
            arms: vec![
                arm(MethodName::Gd, s.deep.0, Start::Gaussian(1.0)),
                arm(MethodName::Gd, s.deep.0, Start::Orthogonal(1.0)),
            ],
            comparisons: vec![(1, 0)],
            best_rate_comparisons: Vec::new(),
            budget: s.deep.3,
            replicates: s.replicates,
        },
        Study {
            remedy: Remedy::Initialisation,
            landscape: Landscape::DigitsMlp,
            arms: vec![
                arm(MethodName::Gd, s.mlp.0, Start::Gain(s.mlp.2)),
                arm(MethodName::Gd, s.mlp.0, Start::Gain(1.0)),
            ],
            comparisons: vec![(1, 0)],
            best_rate_comparisons: Vec::new(),
            budget: s.mlp.3,
            replicates: s.network_replicates,
        },
        Study {
            remedy: Remedy::Initialisation,
            landscape: Landscape::Committee,
            arms: vec![
                arm(MethodName::Gd, s.committee.0, Start::Norm(s.committee.2)),
                arm(MethodName::Gd, s.committee.0, Start::Norm(s.committee.3)),
            ],
            comparisons: vec![(1, 0)],
            best_rate_comparisons: Vec::new(),
            budget: s.committee.4,
            replicates: s.replicates,
        },
    ];
    // Batch normalisation on the digits network: with against without, for every rate and
    // from both starts; and each at its best rate.
    let (bn_rates, bn_budget) = &s.batch_norm;
    let mut bn_arms = Vec::new();
    let mut bn_comparisons = Vec::new();
    let mut bn_best = Vec::new();
    for gain in [s.mlp.2, 1.0] {
        for &rate in bn_rates {
            let plain = arm(MethodName::Gd, rate, Start::Gain(gain));
            bn_comparisons.push((bn_arms.len() + 1, bn_arms.len()));
            bn_arms.push(plain);
            bn_arms.push(Arm {
                batch_norm: true,
                ..plain
            });
        }
        let plain = arm(MethodName::Gd, 1.0, Start::Gain(gain));
        let normalised = Arm {
            batch_norm: true,
            ..plain
        };
        bn_best.push((normalised.group(), plain.group()));
    }
    studies.push(Study {
        remedy: Remedy::BatchNorm,
        landscape: Landscape::DigitsMlp,
        arms: bn_arms,
        comparisons: bn_comparisons,
        best_rate_comparisons: bn_best,
        budget: *bn_budget,
        replicates: s.network_replicates,
    });
    // Loss design on the digits network from the small start: squared error on the softmax
    // outputs against cross-entropy, for every rate, and each at its best rate.
    let (loss_rates, loss_budget) = &s.loss_design;
    let mut loss_arms = Vec::new();
    let mut loss_comparisons = Vec::new();
    let saturating = |a: Arm| Arm {
        loss: Loss::SoftmaxSquaredError,
        ..a
    };
    for &rate in loss_rates {
        let designed = arm(MethodName::Gd, rate, Start::Gain(s.mlp.2));
        loss_comparisons.push((loss_arms.len() + 1, loss_arms.len()));
        loss_arms.push(saturating(designed));
        loss_arms.push(designed);
    }
    let designed = arm(MethodName::Gd, 1.0, Start::Gain(s.mlp.2));
    studies.push(Study {
        remedy: Remedy::LossDesign,
        landscape: Landscape::DigitsMlp,
        arms: loss_arms,
        comparisons: loss_comparisons,
        best_rate_comparisons: vec![(designed.group(), saturating(designed).group())],
        budget: *loss_budget,
        replicates: s.network_replicates,
    });
    let (rates, thresholds, cliff_budget) = &s.cliff;
    let mut cliff_arms = Vec::new();
    let mut cliff_comparisons = Vec::new();
    let mut cliff_best = Vec::new();
    for &rate in rates {
        let none = cliff_arms.len();
        cliff_arms.push(arm(MethodName::Gd, rate, Start::Standard));
        for &c in thresholds {
            for clip in [Clip::Norm(c), Clip::Value(c)] {
                cliff_comparisons.push((cliff_arms.len(), none));
                cliff_arms.push(Arm {
                    clip,
                    ..arm(MethodName::Gd, rate, Start::Standard)
                });
            }
        }
    }
    for &c in thresholds {
        for clip in [Clip::Norm(c), Clip::Value(c)] {
            let clipped = Arm {
                clip,
                ..arm(MethodName::Gd, 1.0, Start::Standard)
            };
            cliff_best.push((
                clipped.group(),
                arm(MethodName::Gd, 1.0, Start::Standard).group(),
            ));
        }
    }
    studies.push(Study {
        remedy: Remedy::Clipping,
        landscape: Landscape::Cliff,
        arms: cliff_arms,
        comparisons: cliff_comparisons,
        best_rate_comparisons: cliff_best,
        budget: *cliff_budget,
        replicates: s.replicates,
    });
    let adaptive =
        |landscape, (rate, adaptive_rate, budget): (f64, f64, u64), start, replicates| Study {
            remedy: Remedy::AdaptiveSteps,
            landscape,
            arms: vec![
                arm(MethodName::Gd, rate, start),
                arm(MethodName::Momentum, rate, start),
                arm(MethodName::Adam, adaptive_rate, start),
                arm(MethodName::RmsProp, adaptive_rate, start),
            ],
            comparisons: vec![(2, 0), (3, 0), (2, 1), (3, 1)],
            best_rate_comparisons: Vec::new(),
            budget,
            replicates,
        };
    studies.push(adaptive(
        Landscape::DeepLinear,
        (s.deep.0, s.deep.1, s.deep.3),
        Start::Gaussian(s.deep.2),
        s.replicates,
    ));
    studies.push(adaptive(
        Landscape::DigitsMlp,
        (s.mlp.0, s.mlp.1, s.mlp.3),
        Start::Gain(s.mlp.2),
        s.network_replicates,
    ));
    studies.push(adaptive(
        Landscape::Shelf,
        s.shelf,
        Start::Standard,
        s.replicates,
    ));
    studies.push(adaptive(
        Landscape::HalfTrap,
        s.trap,
        Start::Standard,
        s.replicates,
    ));
    studies.push(adaptive(
        Landscape::Committee,
        (s.committee.0, s.committee.1, s.committee.4),
        Start::Norm(s.committee.2),
        s.replicates,
    ));
    studies
}
