//! Tests of `remedies`: pairing, the comparison rules, known outcomes, purity.

use super::claims::{Effect, compare};
use super::records::{ArmRun, Failure, PairedRuns};
use super::studies::{Landscape, Remedy};
use super::*;
use crate::mc::{Stop, chunk_stream};
use crate::scenarios::spec::ScenarioSpec;

fn quick() -> Remedies {
    let spec = ScenarioSpec::parse(Remedies::SPEC, "remedies.toml").unwrap();
    Remedies::from_params(&spec.profile("quick").unwrap()).unwrap()
}

fn study_index(r: &Remedies, remedy: Remedy, landscape: Landscape) -> usize {
    r.studies
        .iter()
        .position(|s| s.remedy == remedy && s.landscape == landscape)
        .unwrap()
}

/// Two identical arms of one replicate run identically (same landscape, start and noise from
/// the replicate's one seed): the pairing the comparisons rely on. Checked on the cliff (the
/// start is drawn), the deep linear network and the committee (teacher and weights are drawn).
#[test]
fn arms_of_a_replicate_share_their_seed() {
    let r = quick();
    for landscape in [
        Landscape::Cliff,
        Landscape::DeepLinear,
        Landscape::Committee,
    ] {
        let remedy = if landscape == Landscape::Cliff {
            Remedy::Clipping
        } else {
            Remedy::AdaptiveSteps
        };
        let mut study = r.studies[study_index(&r, remedy, landscape)].clone();
        study.arms = vec![study.arms[1], study.arms[1]];
        let mut rng = chunk_stream(3, "remedies-test", 0, 0);
        let runs = r.landscapes.replicate(&study, &mut rng, Stop::NEVER);
        assert_eq!(runs[0], runs[1], "{landscape:?}");
    }
}

fn run(steps: Option<u64>) -> ArmRun {
    ArmRun {
        steps,
        failure: if steps.is_some() {
            None
        } else {
            Some(Failure::Censored)
        },
        jumps: 0,
        unstable: false,
        curvature: None,
    }
}

/// 40 replicates of two arms with the given steps (None = failed) for arm 0 and arm 1.
fn paired(
    with: impl Fn(usize) -> Option<u64>,
    without: impl Fn(usize) -> Option<u64>,
) -> PairedRuns {
    PairedRuns {
        runs: (0..40)
            .map(|i| vec![run(with(i)), run(without(i))])
            .collect(),
    }
}

/// The stated rules: fewer failures → helps; faster at equal failures → helps; slower →
/// hurts; fewer failures but slower → trade-off; noise only → no difference.
#[test]
fn comparisons_follow_the_stated_rules() {
    let level = 0.01;
    let varied = |base: u64| move |i: usize| Some(base + (i as u64 * 7) % 13);
    let cases: [(PairedRuns, Effect); 5] = [
        (
            paired(varied(100), |i| varied(100)(i).filter(|_| i % 2 == 0)),
            Effect::Helps,
        ),
        (paired(varied(50), varied(100)), Effect::Helps),
        (paired(varied(200), varied(100)), Effect::Hurts),
        (
            paired(varied(200), |i| (i % 2 == 0).then_some(100 + i as u64 % 5)),
            Effect::TradeOff,
        ),
        (paired(varied(100), varied(100)), Effect::NoDifference),
    ];
    for (k, (runs, effect)) in cases.iter().enumerate() {
        let c = compare(runs, 0, 1, level).unwrap();
        assert_eq!(c.effect, *effect, "case {k}: {c:?}");
    }
}

/// Known outcomes of the quick profile's landscapes, from the simulation itself: plain GD
/// never passes the half trap (it converges to the degenerate point), Adam and RMSProp do in
/// every run; on the cliff, unclipped GD at η = 5 diverges in every run (its steps off a wall
/// are unbounded) while norm clipping at the same rate stays finite.
#[test]
fn known_outcomes_are_reproduced() {
    let r = quick();
    let trap = study_index(&r, Remedy::AdaptiveSteps, Landscape::HalfTrap);
    let runs = r.simulate(trap, 4, &mut chunk_stream(1, "t", 0, 0), Stop::NEVER);
    let arms = &r.studies[trap].arms;
    for (a, arm) in arms.iter().enumerate() {
        let (failed, total) = runs.failures(a);
        match arm.method {
            MethodName::Gd => assert_eq!(failed, total),
            MethodName::Adam | MethodName::RmsProp => assert_eq!(failed, 0),
            _ => {}
        }
    }
    let cliff = study_index(&r, Remedy::Clipping, Landscape::Cliff);
    let runs = r.simulate(cliff, 4, &mut chunk_stream(1, "t", 0, 0), Stop::NEVER);
    for (a, arm) in r.studies[cliff].arms.iter().enumerate() {
        if arm.learning_rate == 5.0 {
            let diverged = runs
                .arm(a)
                .filter(|x| x.failure == Some(Failure::Diverged))
                .count();
            match arm.clip {
                studies::Clip::None => assert_eq!(diverged, 4),
                _ => assert_eq!(diverged, 0, "{}", arm.label()),
            }
        }
    }
}

/// Same stream, same chunk: the same runs (the engine's determinism across threads and
/// shards rests on it).
#[test]
fn a_chunk_is_a_pure_function_of_its_stream() {
    let r = quick();
    for cell in 0..r.studies.len() {
        if r.studies[cell].landscape == Landscape::DigitsMlp {
            continue; // the slowest; the same code path as the others
        }
        let once = r.simulate(
            cell,
            2,
            &mut chunk_stream(5, "p", cell as u64, 0),
            Stop::NEVER,
        );
        let again = r.simulate(
            cell,
            2,
            &mut chunk_stream(5, "p", cell as u64, 0),
            Stop::NEVER,
        );
        assert_eq!(once, again);
    }
}

/// The batch-normalisation study measures the Hessian exactly where it says: at the stated
/// rate, in the runs that reached the target, for both arms; nowhere else. The values are a
/// positive λ_max, at most 4k outliers and a share in [0, 1].
#[test]
fn end_curvature_is_measured_at_the_stated_rate_only() {
    let r = quick();
    let cell = study_index(&r, Remedy::BatchNorm, Landscape::DigitsMlp);
    let runs = r.simulate(cell, 1, &mut chunk_stream(2, "t", 0, 0), Stop::NEVER);
    let classes = r.landscapes.digits.classes as u32;
    for (arm, run) in r.studies[cell].arms.iter().zip(&runs.runs[0]) {
        let expected = arm.learning_rate == r.landscapes.curvature_rate && !run.failed();
        assert_eq!(run.curvature.is_some(), expected, "{}", arm.label());
        if let Some(c) = run.curvature {
            assert!(c.lambda_max > 0.0 && c.outliers <= 4 * classes);
            assert!((0.0..=1.0).contains(&c.top_share));
        }
    }
}
