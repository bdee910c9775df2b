//! One chunk of one `critical-volume` cell: direct draws, splitting runs or optimizer
//! trajectories.

use rand::RngExt;
use rand_distr::StandardNormal;
use statrs::function::erf::erf;

use super::CriticalVolume;
use super::cells::{Cell, Method, OptimizerName, Synthetic};
use super::records::{SplittingRuns, TrajectoryRuns, VolumeRuns};
use crate::landscape::{
    BoxSplitting, BoxSplittingWorkspace, EquicorrelatedGradient, FeatureGradient, GradientLaw,
    IndependentGradient, ScaleMixtureGradient, direct_box_hits,
};
use crate::mc::{Stop, StreamRng, chunk_stream};
use crate::nets::NetObjective;
use crate::optim::{Method as Update, Optimizer, OptimizerConfig, StepStatus};
use crate::stats::MeanVar;

/// Simulates `replicates` samples (direct draws, runs or trajectories) of cell `index`.
pub fn simulate(
    exp: &CriticalVolume,
    index: usize,
    replicates: u64,
    rng: &mut StreamRng,
    stop: Stop,
) -> VolumeRuns {
    match exp.cells[index] {
        Cell::Synthetic { law, n, method, .. } => {
            let tau = exp.synthetic_threshold(index).0;
            let thresholds = vec![tau; n];
            let settings = BoxSplitting {
                sweeps: match exp.cells[index] {
                    Cell::Synthetic { sweeps, .. } => sweeps,
                    _ => unreachable!(),
                },
                ..exp.synthetic
            };
            macro_rules! with_law {
                ($law:expr) => {
                    match method {
                        Method::Direct => VolumeRuns::Direct {
                            hits: direct_box_hits(&$law, &thresholds, replicates, rng, &mut ()),
                            samples: replicates,
                        },
                        Method::Splitting => VolumeRuns::Splitting(split(
                            &settings,
                            &$law,
                            &thresholds,
                            replicates,
                            rng,
                            stop,
                        )),
                    }
                };
            }
            match law {
                Synthetic::Independent => with_law!(IndependentGradient { n }),
                Synthetic::Equicorrelated { rho } => with_law!(EquicorrelatedGradient { n, rho }),
                Synthetic::ScaleMixture { m } => with_law!(ScaleMixtureGradient { n, m }),
                Synthetic::Features { k } => with_law!(FeatureGradient { n, features: k }),
            }
        }
        Cell::Network { id } => VolumeRuns::Splitting(network_runs(exp, id, replicates, rng, stop)),
        Cell::Trajectory { id, optimizer } => {
            VolumeRuns::Trajectory(trajectories(exp, id, optimizer, replicates, rng, stop))
        }
    }
}

/// `replicates` splitting runs of a synthetic law.
fn split<L: GradientLaw<Scratch = ()>>(
    settings: &BoxSplitting,
    law: &L,
    thresholds: &[f64],
    replicates: u64,
    rng: &mut StreamRng,
    stop: Stop,
) -> SplittingRuns {
    let mut runs = SplittingRuns::default();
    let mut ws = BoxSplittingWorkspace::default();
    for _ in 0..replicates {
        if stop.requested() {
            break;
        }
        let run = settings.run(law, thresholds, 0, rng, &mut ws, &mut ());
        record(
            &mut runs,
            run.ln_probability,
            run.ideal_variance,
            run.stages,
            run.acceptance,
        );
    }
    runs
}

fn record(runs: &mut SplittingRuns, ln_p: f64, ideal: f64, stages: usize, acceptance: f64) {
    if ln_p.is_finite() {
        runs.ln_estimates.push(ln_p);
        runs.ideal_variance.push(ideal);
        runs.stages.push(stages as f64);
        runs.acceptance.push(acceptance);
    } else {
        runs.diverged += 1;
    }
}

/// Splitting runs on a network at its initialisation, with a description of the final
/// particles inside the box (loss, output spread, Hessian index at 1e-3 λ_max).
fn network_runs(
    exp: &CriticalVolume,
    id: usize,
    replicates: u64,
    rng: &mut StreamRng,
    stop: Stop,
) -> SplittingRuns {
    let net = exp.mlp(id);
    let (law, calibration) = exp.calibrated(id, &net);
    let mut scratch = law.scratch();
    let mut ws = BoxSplittingWorkspace::default();
    let mut runs = SplittingRuns::default();
    for _ in 0..replicates {
        if stop.requested() {
            break;
        }
        let run = exp.network.run(
            &law,
            &calibration.thresholds,
            exp.inside_samples,
            rng,
            &mut ws,
            &mut scratch,
        );
        record(
            &mut runs,
            run.ln_probability,
            run.ideal_variance,
            run.stages,
            run.acceptance,
        );
        for latent in &run.inside {
            let (loss, spread) = law.describe_point(latent, &mut scratch);
            runs.inside_loss.push(loss);
            runs.inside_spread.push(spread);
            if let Some(index) = law.index(latent, 1e-3, &mut scratch) {
                runs.inside_index.push(index as f64);
            }
        }
    }
    runs
}

/// GD or SGD trajectories from random initialisations: the fraction of checked iterates
/// whose full-batch gradient lies in the network's box.
fn trajectories(
    exp: &CriticalVolume,
    id: usize,
    optimizer: OptimizerName,
    replicates: u64,
    rng: &mut StreamRng,
    stop: Stop,
) -> TrajectoryRuns {
    let net = exp.mlp(id);
    let (law, calibration) = exp.calibrated(id, &net);
    let mut scratch = law.scratch();
    let objective = NetObjective::new(&net, &exp.data);
    let t = exp.trajectories;
    let method = match optimizer {
        OptimizerName::Gd => Update::Gd,
        OptimizerName::Sgd => Update::Sgd { batch: t.batch },
    };
    let config = OptimizerConfig {
        method,
        learning_rate: t.learning_rate,
        clip: None,
    };
    let mut runs = TrajectoryRuns::default();
    let mut latent = vec![0.0; law.latent_len()];
    let mut theta = vec![0.0; net.parameters()];
    for _ in 0..replicates {
        if stop.requested() {
            break;
        }
        for x in latent.iter_mut() {
            *x = rng.sample(StandardNormal);
        }
        law.parameters(&latent, &mut theta);
        let mut step_rule = Optimizer::new(config, net.parameters(), exp.data.examples());
        let mut first_entry = None;
        let mut diverged = false;
        for step in 0..=t.steps {
            if step % t.check_every == 0 {
                runs.checks += 1;
                if law.in_box(&theta, &calibration.thresholds, &mut scratch) {
                    runs.inside += 1;
                    first_entry.get_or_insert(step);
                }
            }
            if step < t.steps
                && step_rule.step(&objective, &mut theta, rng) == StepStatus::NonFinite
            {
                diverged = true;
                break;
            }
        }
        runs.runs += 1;
        if let Some(step) = first_entry {
            runs.entered += 1;
            runs.first_entry.push(step as f64);
        }
        if diverged {
            runs.diverged += 1;
        } else {
            runs.final_loss.push(law.loss_at(&theta, &mut scratch));
        }
    }
    runs
}

/// The box half-width of a random-feature landscape with marginal probability p, and the
/// relative standard deviation its pilot leaves on p.
///
/// The marginal law of one component is `g = s·z` with `s = ‖c‖` (see
/// [`FeatureGradient`]), so `P(|g| < τ) = E erf(τ/(s√2))`: `samples` draws of s from the
/// stream `seed` estimate it, and τ solves the estimate = p by bisection. The estimate's
/// standard error over p, `sd(erf(τ/(s√2)))/(p√N)`, is returned with τ: the reference
/// `n ln p` inherits n times it (the same τ serves every component).
pub fn feature_threshold(k: usize, p: f64, samples: usize, seed: u64) -> (f64, f64) {
    let law = FeatureGradient { n: 1, features: k };
    let mut rng = chunk_stream(seed, &format!("critical-volume feature pilot K={k}"), 0, 0);
    let mut latent = vec![0.0; law.latent_len()];
    let scales: Vec<f64> = (0..samples)
        .map(|_| {
            for x in latent.iter_mut() {
                *x = rng.sample(StandardNormal);
            }
            law.scale(&latent)
        })
        .collect();
    let marginal = |tau: f64| {
        let mut mv = MeanVar::default();
        for s in &scales {
            mv.push(erf(tau / (s * std::f64::consts::SQRT_2)));
        }
        mv
    };
    let (mut lo, mut hi) = (0.0, 20.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if marginal(mid).mean() < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let tau = 0.5 * (lo + hi);
    (tau, marginal(tau).standard_error() / p)
}
