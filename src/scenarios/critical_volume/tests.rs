//! Tests of `critical-volume`: the grid, the network law, determinism and the verdicts.

use rand::SeedableRng;

use super::cells::{Cell, Init, Method, Synthetic};
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
