//! Tests of `convergence-audit`: the classification and the verdict rules on made-up records
//! (so each rule is seen to give each verdict), and real runs on iris, small enough for CI.

use super::claims::{LogRatio, PointClass, mean_drop_log_ratio, output_over_hidden};
use super::records::{CellRuns, PlateauAudit, RunAudit, SpectrumHistogram};
use super::*;
use crate::mc::chunk_stream;
use crate::report::{Verdict, verdict_of};
use crate::scenarios::spec::ScenarioSpec;
use crate::stats::error_bar_consistency;

/// The quick profile on iris with 4 hidden units: a run takes milliseconds.
fn iris(overrides: &[(&str, toml::Value)]) -> ConvergenceAudit {
    let spec = ScenarioSpec::parse(ConvergenceAudit::SPEC, "convergence-audit.toml").unwrap();
    let mut table = spec.profile("quick").unwrap();
    table.insert("dataset".into(), "iris".into());
    table.insert("widths".into(), toml::Value::Array(vec![4.into()]));
    table.insert("sgd_batch".into(), 16.into());
    table.insert("search_iterations".into(), 5.into());
    for (k, v) in overrides {
        table.insert((*k).into(), v.clone());
    }
    ConvergenceAudit::from_params(&table).unwrap()
}

fn point(gradient: f64, layers: Vec<(f64, f64)>, lambda: (f64, f64)) -> PlateauAudit {
    PlateauAudit {
        epoch: 10,
        learning_rate: 0.1,
        loss: 0.1,
        accuracy: (1.0, 1.0),
        gradient_norm: gradient,
        layers,
        lambda,
        index: vec![0; 4],
        outliers: 0,
        shares: (0.0, 0.0, 0.0),
    }
}

fn run(plateaus: Vec<PlateauAudit>) -> RunAudit {
    RunAudit {
        diverged: false,
        converged: true,
        epochs: 100,
        layer_sizes: vec![3, 1],
        initial_gradient: (1.0, vec![1.0, 1.0]),
        plateaus,
        history: Vec::new(),
        line: Vec::new(),
        search: None,
        spectrum: SpectrumHistogram::default(),
    }
}

#[test]
fn end_points_are_classified_by_gradient_then_curvature() {
    let audit = iris(&[]);
    // critical_tolerance = curvature_tolerance = 1e-3 in the profile.
    let c = |g, lmin| audit.classify(&point(g, vec![], (lmin, 1.0)), 1.0);
    assert_eq!(c(2e-3, 0.0), PointClass::NotCritical);
    assert_eq!(c(5e-4, -5e-4), PointClass::Minimum);
    assert_eq!(c(5e-4, -2e-3), PointClass::Saddle);
}

#[test]
fn the_output_ratio_pools_the_hidden_layers_per_parameter() {
    // Hidden: 3 parameters with norm 1 → RMS √(1/3); output RMS 2.
    let p = point(1.0, vec![(1.0, 0.0), (2.0, 2.0)], (0.0, 1.0));
    assert!((output_over_hidden(&p, &[3, 1]) - 2.0 * 3f64.sqrt()).abs() < 1e-12);
    // Drops: output norm 2 → 1 → 0.5: mean log ratio ln ½.
    let r = run(vec![
        point(1.0, vec![(1.0, 1.0), (2.0, 2.0)], (0.0, 1.0)),
        point(1.0, vec![(1.0, 1.0), (1.0, 1.0)], (0.0, 1.0)),
        point(1.0, vec![(1.0, 1.0), (0.5, 0.5)], (0.0, 1.0)),
    ]);
    assert!((mean_drop_log_ratio(&r).unwrap() - 0.5f64.ln()).abs() < 1e-12);
    assert_eq!(mean_drop_log_ratio(&run(vec![r.plateaus[0].clone()])), None);
}

#[test]
fn log_ratio_intervals_decide_against_the_threshold() {
    let z = 1.96;
    let around = |centre: f64| LogRatio::of([centre.ln() - 0.01, centre.ln() + 0.01].into_iter());
    assert_eq!(around(0.5).above(z, 0.1), Verdict::Supported);
    assert_eq!(around(0.01).above(z, 0.1), Verdict::Refuted);
    let wide = LogRatio::of([0.01f64.ln(), 1.0f64.ln()].into_iter());
    assert_eq!(wide.above(z, 0.1), Verdict::Inconclusive);
    assert_eq!(
        LogRatio::of([0.0].into_iter()).above(z, 0.1),
        Verdict::Inconclusive
    );
}

/// Each finding gives each verdict on records built to give it.
#[test]
fn cell_findings_follow_the_records() {
    let audit = iris(&[]);
    let case = audit.cells[0];
    // 20 runs whose end gradient is 0.5 ‖g0‖ (not critical), output RMS above hidden, and
    // an output gradient that survives the drop.
    let survivor = |i: usize| {
        let wiggle = 1.0 + 0.01 * i as f64;
        run(vec![
            point(0.5, vec![(0.1, 0.1), (1.0, 1.0)], (-0.1, 1.0)),
            point(
                0.5 * wiggle,
                vec![(0.1, 0.1), (wiggle, wiggle)],
                (-0.1, 1.0),
            ),
        ])
    };
    let runs = CellRuns {
        runs: (0..20).map(survivor).collect(),
    };
    let f = audit.cell_findings(&case, &runs).unwrap();
    assert_eq!(
        verdict_of(&f, &format!("{}: end point is not critical", case.label())),
        Some(Verdict::Supported)
    );
    assert_eq!(
        verdict_of(&f, &format!("{}: output layer", case.label())),
        Some(Verdict::Supported)
    );
    assert_eq!(
        verdict_of(&f, &format!("{}: output gradient survives", case.label())),
        Some(Verdict::Supported)
    );
    assert_eq!(
        verdict_of(
            &f,
            &format!("{}: gradient norm does not shrink", case.label())
        ),
        Some(Verdict::Supported)
    );
    // The opposite: critical minima, output below hidden, gradients that collapse.
    let collapsing = |i: usize| {
        let wiggle = 1.0 + 0.01 * i as f64;
        run(vec![
            point(1e-4, vec![(1.0, 1.0), (0.01, 0.01)], (0.0, 1.0)),
            point(
                1e-5 * wiggle,
                vec![(1.0, 1.0), (1e-4 * wiggle, 1e-4)],
                (0.0, 1.0),
            ),
        ])
    };
    let runs = CellRuns {
        runs: (0..20).map(collapsing).collect(),
    };
    let f = audit.cell_findings(&case, &runs).unwrap();
    for subject in [
        "end point",
        "output layer",
        "output gradient",
        "gradient norm",
    ] {
        assert_eq!(
            verdict_of(&f, &format!("{}: {subject}", case.label())),
            Some(Verdict::Refuted),
            "{subject}"
        );
    }
}

/// Real runs on iris: every run reaches its plateaus (drops + 1 of them), the straight line
/// starts at the initial loss, and the same stream gives the same record.
#[test]
fn iris_runs_are_complete_and_reproducible() {
    let audit = iris(&[(
        "trainers",
        toml::Value::Array(vec!["gd".into(), "sgd".into()]),
    )]);
    for (cell, case) in audit.cells.iter().enumerate() {
        let runs = audit.simulate(
            cell,
            2,
            &mut chunk_stream(1, "t", cell as u64, 0),
            Stop::NEVER,
        );
        assert_eq!(runs.runs.len(), 2);
        for run in &runs.runs {
            assert!(!run.diverged && run.converged, "{case:?}");
            assert_eq!(run.plateaus.len(), 3);
            assert_eq!(run.line.len(), 11);
            assert!(run.search.is_some());
            assert_eq!(run.spectrum.total(), 4 * 4 + 4 + 4 * 3 + 3);
        }
        let again = audit.simulate(
            cell,
            2,
            &mut chunk_stream(1, "t", cell as u64, 0),
            Stop::NEVER,
        );
        assert_eq!(runs, again);
    }
}

/// Honest error bars: 8 independent batches of 12 iris runs each; the batches' geometric-
/// mean ratios (end/initial gradient norm and output/hidden RMS, in log space) scatter as
/// their standard errors say (Cochran's Q, two-sided p > 10⁻⁴).
#[test]
fn log_ratio_error_bars_match_the_spread_across_seeds() {
    let audit = iris(&[("search_iterations", 0.into())]);
    let batches: Vec<CellRuns> = (0..8)
        .map(|seed| audit.simulate(0, 12, &mut chunk_stream(100 + seed, "t", 0, 0), Stop::NEVER))
        .collect();
    let estimates = |f: &dyn Fn(&RunAudit, &PlateauAudit) -> f64| -> Vec<(f64, f64)> {
        batches
            .iter()
            .map(|b| {
                let r = LogRatio::of(b.runs.iter().filter_map(|r| r.end().map(|e| f(r, e))));
                (r.mean, r.se)
            })
            .collect()
    };
    let through = estimates(&|r, e| (e.gradient_norm / r.initial_gradient.0).ln());
    let output = estimates(&|r, e| output_over_hidden(e, &r.layer_sizes).ln());
    for (name, e) in [("end/initial", through), ("output/hidden", output)] {
        let t = error_bar_consistency(&e).unwrap();
        assert!(t.p_value > 1e-4, "{name} {:?}: {e:?}", t);
    }
}

/// The paper grid (2 widths × 2 activations × 2 decays × 2 trainers): 16 cells, 16 looks;
/// one colour per activation and trainer (4), one marker per width and decay (4).
#[test]
fn the_paper_grid_draws_every_cell_in_a_look_of_its_own() {
    let spec = ScenarioSpec::parse(ConvergenceAudit::SPEC, "convergence-audit.toml").unwrap();
    let exp = ConvergenceAudit::from_params(&spec.profile("paper").unwrap()).unwrap();
    assert_eq!(exp.cells.len(), 16);
    let looks: Vec<_> = exp.cells.iter().map(|c| exp.look(c)).collect();
    let mut unique = looks.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 16);
    for (a, look_a) in exp.cells.iter().zip(&looks) {
        for (b, look_b) in exp.cells.iter().zip(&looks) {
            let same_group = a.activation == b.activation && a.trainer == b.trainer;
            assert_eq!(look_a.colour == look_b.colour, same_group);
            let same_shape = a.width == b.width && a.weight_decay == b.weight_decay;
            assert_eq!(look_a.marker == look_b.marker, same_shape);
        }
    }
    assert!(looks.iter().all(|l| l.colour < 4 && l.marker < 4));
}
