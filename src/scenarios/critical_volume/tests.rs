//! Tests of `critical-volume`: the grid, the network law, determinism and the verdicts.

use rand::SeedableRng;

use super::cells::{Cell, Init, Method, OptimizerName, Synthetic};
use super::network::{NetworkGradient, output_spread};
use super::*;
use crate::landscape::{FeatureGradient, GradientLaw};
use crate::mc::Stop;
use crate::scenarios::spec_of;

fn quick() -> CriticalVolume {
    let spec = spec_of("critical-volume").unwrap().unwrap();
    CriticalVolume::from_params(&spec.profile("quick").unwrap()).unwrap()
}

#[test]
fn network_law_is_the_gradient_at_the_initialisation() {
    let exp = quick();
    let net = exp.mlp(0);
    let law = NetworkGradient::new(&net, &exp.data, 1.0);
    let mut rng = StreamRng::seed_from_u64(4);
    let latent: Vec<f64> = (0..law.latent_len())
        .map(|_| rand::RngExt::sample(&mut rng, rand_distr::StandardNormal))
        .collect();
    let mut scratch = law.scratch();
    let mut g = vec![0.0; law.dimension()];
    law.gradient(&latent, &mut g, &mut scratch);
    let mut theta = vec![0.0; net.parameters()];
    law.parameters(&latent, &mut theta);
    let mut ws = net.workspace(exp.data.examples());
    let mut full = vec![0.0; net.parameters()];
    net.loss_and_gradient(&theta, &exp.data, &mut ws, &mut full);
    assert_eq!(g, full);
    // Weights N(0, 1/fan_in): the first layer's mean square times fan_in is 1 with standard
    // error √(2/m) over its m weights; 5 of them.
    let first = &theta[net.layers()[0].weights.clone()];
    let variance = first.iter().map(|w| w * w).sum::<f64>() / first.len() as f64;
    let se = (2.0 / first.len() as f64).sqrt();
    assert!((variance * 64.0 - 1.0).abs() < 5.0 * se, "{variance}");
    assert!(
        theta[net.layers()[0].biases.clone()]
            .iter()
            .all(|&b| b == 0.0)
    );
}

#[test]
fn calibration_drops_dead_derivatives_and_hits_the_marginal() {
    let exp = quick();
    let net = exp.mlp(0);
    let law = NetworkGradient::new(&net, &exp.data, 1.0);
    let mut rng = StreamRng::seed_from_u64(9);
    let calibration = law.calibrate(0.1, 400, &mut rng);
    // The digits have always-blank pixels: their first-layer weights are dead.
    assert!(calibration.live.len() < net.parameters());
    assert!(calibration.live.len() > net.parameters() / 2);
    assert!(calibration.thresholds.iter().all(|&t| t > 0.0));
    // On fresh draws each live derivative is inside its box with probability ≈ p: pooled
    // over live derivatives and 200 draws the fraction has a standard error of at most
    // √(0.09/200) per derivative plus the calibration's √(0.09/400); 5 of them on the mean.
    let law = law.restricted(&calibration.live);
    let mut scratch = law.scratch();
    let mut g = vec![0.0; law.dimension()];
    let (mut inside, mut total) = (0u64, 0u64);
    let mut latent = vec![0.0; law.latent_len()];
    for _ in 0..200 {
        for x in latent.iter_mut() {
            *x = rand::RngExt::sample(&mut rng, rand_distr::StandardNormal);
        }
        law.gradient(&latent, &mut g, &mut scratch);
        for (gi, t) in g.iter().zip(&calibration.thresholds) {
            inside += u64::from(gi.abs() < *t);
            total += 1;
        }
    }
    let fraction = inside as f64 / total as f64;
    let se = (0.09f64 / 200.0).sqrt() + (0.09f64 / 400.0).sqrt();
    assert!((fraction - 0.1).abs() < 5.0 * se, "{fraction}");
}

#[test]
fn output_spread_is_zero_for_a_constant_network_only() {
    let exp = quick();
    let net = exp.mlp(0);
    let mut theta = vec![0.0; net.parameters()];
    theta[net.layers()[1].biases.clone()].copy_from_slice(&[0.3; 10]);
    let mut ws = net.workspace(exp.data.examples());
    assert!(output_spread(&net, &theta, &exp.data, &mut ws) < 1e-12);
    // Input 20 (a pixel that varies; input 0 is always blank) into the hidden unit.
    theta[net.layers()[0].weights.start + 20] = 1.0;
    theta[net.layers()[1].weights.start] = 1.0;
    assert!(output_spread(&net, &theta, &exp.data, &mut ws) > 0.01);
}

#[test]
fn grid_has_direct_splitting_mixing_network_and_trajectory_cells() {
    let exp = quick();
    let has = |f: &dyn Fn(&Cell) -> bool| exp.cells.iter().any(f);
    assert!(has(&|c| matches!(
        c,
        Cell::Synthetic {
            method: Method::Direct,
            ..
        }
    )));
    assert!(has(
        &|c| matches!(c, Cell::Synthetic { sweeps, .. } if *sweeps == 0.25)
    ));
    assert!(has(&|c| matches!(c, Cell::Network { .. })));
    assert!(has(&|c| matches!(c, Cell::Trajectory { .. })));
    assert!(exp.networks.iter().any(|n| n.init == Init::Small));
    // Distinct keys for every cell.
    let mut keys: Vec<String> = exp.cells.iter().map(|c| exp.key_text(c)).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), exp.cells.len());
}

/// Same stream, same chunk: the same accumulator (the engine's determinism across threads
/// and shards rests on it).
#[test]
fn a_chunk_is_a_pure_function_of_its_stream() {
    let exp = quick();
    for (index, cell) in exp.cells.iter().enumerate() {
        let light = matches!(cell, Cell::Synthetic { law: Synthetic::Independent | Synthetic::Equicorrelated { .. }, n, .. } if *n <= 30)
            || matches!(cell, Cell::Trajectory { .. });
        if !light {
            continue;
        }
        let run = || {
            let mut rng = StreamRng::seed_from_u64(7);
            simulate::simulate(&exp, index, 1, &mut rng, Stop::NEVER)
        };
        assert_eq!(run(), run());
    }
}

/// The feature pilot's τ gives the marginal p: for many features the law is nearly
/// Gaussian, so τ is close to the Gaussian threshold. Two allowances, in relative terms
/// (at p = 0.1, dτ/τ ≈ dp/p since p ≈ 2φ(τ)τ): 5 of the pilot's own relative standard errors
/// of p, and the shared scale's variance Var‖c‖² = 3.5/K, which moves τ at second order.
#[test]
fn feature_threshold_tends_to_the_gaussian_one() {
    let features = 2000;
    let (tau, relative) = simulate::feature_threshold(features, 0.1, 2000, 1);
    let gaussian = crate::landscape::gaussian_box_threshold(0.1);
    let allowance = 5.0 * relative + FeatureGradient::SCALE_VARIANCE_TIMES_K / features as f64;
    assert!(
        (tau / gaussian - 1.0).abs() < allowance,
        "{tau} {gaussian} {allowance}"
    );
    assert!(relative < 0.01);
}

/// The excess figures on the paper grid, with made-up estimates: one figure per p; every
/// cell at its excess `log₁₀(P/pⁿ)` with [`Row::excess`]'s interval; a look of its own per
/// measured series (colour per family, marker per parameter) shared by its exact line; the
/// iterates only where some were inside; the essay flat at 0.
#[test]
fn excess_figures_put_each_cell_at_its_excess_with_a_look_of_its_own() {
    use super::claims::Row;
    use super::records::TrajectoryRuns;
    use crate::stats::two_sided_z;
    use std::f64::consts::LN_10;

    let spec = spec_of("critical-volume").unwrap().unwrap();
    let exp = CriticalVolume::from_params(&spec.profile("paper").unwrap()).unwrap();
    let rows: Vec<Row> = exp
        .cells
        .iter()
        .enumerate()
        .filter_map(|(cell, c)| {
            let (n, p, network, sweeps, method, exact) = match *c {
                Cell::Synthetic {
                    law,
                    n,
                    p,
                    method,
                    sweeps,
                } => (n, p, false, sweeps, method, law.exact_ln_p(n, p)),
                Cell::Network { id } => (
                    40 + 100 * id,
                    exp.networks[id].p,
                    true,
                    exp.network.sweeps,
                    Method::Splitting,
                    None,
                ),
                Cell::Trajectory { .. } => return None,
            };
            let essay = n as f64 * p.ln();
            Some(Row {
                cell,
                landscape: String::new(),
                network,
                n,
                p,
                method,
                sweeps,
                samples: 8,
                ln_p: exact.unwrap_or(essay) + 0.5,
                se: 0.1,
                raw_mean: 0.0,
                sd_runs: 0.0,
                sd_ideal: 0.0,
                acceptance: 0.5,
                stages: 1.0,
                diverged: 0,
                exact,
                essay,
                reference_sd: 0.2,
            })
        })
        .collect();
    let cells: Vec<VolumeRuns> = exp
        .cells
        .iter()
        .map(|c| match *c {
            Cell::Trajectory { optimizer, .. } => VolumeRuns::Trajectory(TrajectoryRuns {
                runs: 1,
                checks: 100,
                inside: if optimizer == OptimizerName::Gd {
                    25
                } else {
                    0
                },
                ..TrajectoryRuns::default()
            }),
            _ => VolumeRuns::Direct {
                hits: 0,
                samples: 0,
            },
        })
        .collect();
    let plots = super::figures::excess_plots(&exp, &rows, &cells, 0.95).unwrap();
    let names: Vec<&str> = plots.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["excess-p0.1", "excess-p0.3"]);
    let z = two_sided_z(0.95).unwrap();
    for (plot, p) in plots.iter().zip([0.1, 0.3]) {
        let measured: Vec<&str> = plot
            .series
            .iter()
            .map(|(label, _)| label.as_str())
            .filter(|label| !plot.references.iter().any(|r| r == label))
            .collect();
        let mut looks: Vec<_> = measured.iter().map(|l| plot.look_of(l).unwrap()).collect();
        looks.sort();
        looks.dedup();
        assert_eq!(looks.len(), measured.len(), "{measured:?}");
        for exact in plot.references.iter().filter(|r| r.starts_with("exact, ")) {
            let of = &exact["exact, ".len()..];
            assert!(plot.look_of(exact).is_some());
            assert_eq!(plot.look_of(exact), plot.look_of(of));
        }
        let essay = &plot
            .series
            .iter()
            .find(|(l, _)| l == "essay: P = p^n")
            .unwrap()
            .1;
        assert!(essay.iter().all(|&(_, y)| y == 0.0));
        // Every row of this p at its own sweeps, in its series, with its interval.
        for r in rows
            .iter()
            .filter(|r| r.p == p && (r.sweeps == 0.0 || r.sweeps == 2.0))
        {
            let (excess, low, high) = r.excess(z);
            let n = r.n as f64;
            let found = plot.series.iter().any(|(label, points)| {
                points.contains(&(n, excess)) && plot.intervals_of(label).contains(&(n, low, high))
            });
            assert!(found, "cell {} missing", r.cell);
            if let Some(exact) = r.exact.filter(|&e| e != r.essay) {
                let y = (exact - r.essay) / LN_10;
                assert!(
                    plot.series
                        .iter()
                        .any(|(l, pts)| l.starts_with("exact, ") && pts.contains(&(n, y)))
                );
            }
        }
        let iterates: Vec<&str> = measured
            .iter()
            .copied()
            .filter(|l| l.contains("iterates"))
            .collect();
        assert!(
            iterates
                .iter()
                .all(|l| l.starts_with("gd iterates, digits 64-w-10"))
        );
        assert_eq!(iterates.is_empty(), p == 0.1);
    }
    // The gd iterates on the glorot networks: log10(25/100) − n log10 0.3 at each network's n.
    let glorot = &plots[1]
        .series
        .iter()
        .find(|(l, _)| l == "gd iterates, digits 64-w-10 glorot")
        .unwrap()
        .1;
    let expected: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| r.network && exp.networks[net_of(&exp, r.cell)].init == Init::Glorot)
        .map(|r| (r.n as f64, 0.25f64.log10() - r.n as f64 * 0.3f64.log10()))
        .collect();
    assert_eq!(*glorot, expected);
}

/// The network spec of a network cell.
fn net_of(exp: &CriticalVolume, cell: usize) -> usize {
    match exp.cells[cell] {
        Cell::Network { id } => id,
        _ => panic!("cell {cell} is not a network"),
    }
}
