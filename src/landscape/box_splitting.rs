//! A rare-event estimator of the probability that a random gradient lies in the box
//! `|gᵢ| < τᵢ for all i` (claim C3): adaptive multilevel splitting on the score
//! `S = maxᵢ |gᵢ|/τᵢ`, with block preconditioned Crank–Nicolson moves on the Gaussian latent
//! vector that respect the current level.

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use super::gradient_laws::GradientLaw;

/// `S(g) = maxᵢ |gᵢ|/τᵢ`: the point is in the box exactly when `S ≤ 1`.
///
/// ```
/// use stuck::landscape::box_score;
/// assert_eq!(box_score(&[0.5, -3.0], &[1.0, 2.0]), 1.5);
/// ```
pub fn box_score(gradient: &[f64], thresholds: &[f64]) -> f64 {
    gradient
        .iter()
        .zip(thresholds)
        .fold(0.0, |s, (g, t)| f64::max(s, g.abs() / t))
}

/// Counts the draws, among `samples` direct ones, whose gradient lies in the box.
pub fn direct_box_hits<L: GradientLaw, R: Rng + ?Sized>(
    law: &L,
    thresholds: &[f64],
    samples: u64,
    rng: &mut R,
    scratch: &mut L::Scratch,
) -> u64 {
    let mut latent = vec![0.0; law.latent_len()];
    let mut gradient = vec![0.0; law.dimension()];
    let mut hits = 0;
    for _ in 0..samples {
        for x in latent.iter_mut() {
            *x = rng.sample(StandardNormal);
        }
        law.gradient(&latent, &mut gradient, scratch);
        hits += u64::from(box_score(&gradient, thresholds) <= 1.0);
    }
    hits
}

/// Adaptive multilevel splitting for `P(S ≤ 1)`.
///
/// `P(S ≤ 1)` is a product of conditional probabilities over decreasing levels
/// `ℓ₁ > ℓ₂ > … > 1`, each the score below which a fraction `survival` of the particles lies
/// (F. Cérou & A. Guyader, *Stoch. Anal. Appl.* 25, 417, 2007 — the estimator that
/// [`super::WallSplitting`] uses for the GOE wall). One stage:
///
/// 1. evaluate every particle's gradient in full and its score;
/// 2. set the level at the score of the `⌈survival·N⌉ + 1`-th best particle;
///    `ln Ẑ += ln(survivors/N)`; if the level is at or below 1, finish with the fraction in
///    the box instead;
/// 3. replace every particle by systematic copies of the survivors;
/// 4. **move** each particle by `⌈sweeps·L/block⌉` proposals, each changing `block` random
///    latent coordinates by `ξ_B ← √(1−β²) ξ_B + β η` (η ~ N(0, I)): this keeps N(0, I)
///    invariant, so accepting exactly when the score stays below the level keeps the
///    conditional law (a Metropolis step whose prior ratio is 1). β is adapted between
///    stages towards the acceptance rate `target_acceptance`.
///
/// Whole-vector moves (block = L) stop mixing as n grows — a proposal must keep all n
/// components in their boxes at once, so β must shrink like n^{−1/2} — while moves of a few
/// coordinates keep an acceptance of order one. Stages number about `ln(1/P)/ln(1/survival)`;
/// with perfect mixing `Var(ln Ẑ) ≈ stages·(1 − survival)/(survival·N)`
/// ([`BoxSplittingRun::ideal_variance`]); too few moves leave copies correlated with their
/// parents and make the real variance larger and ln Ẑ biased, which the scenario measures on
/// the exact laws.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxSplitting {
    /// Number of particles N ≥ 2.
    pub particles: usize,
    /// Fraction kept per stage, in (0, 1).
    pub survival: f64,
    /// Proposals per particle per stage, in units of `L/block` (one sweep touches each
    /// latent coordinate once on average).
    pub sweeps: f64,
    /// Latent coordinates changed per proposal.
    pub block: usize,
    /// Acceptance rate the step size β is adapted towards.
    pub target_acceptance: f64,
}

/// The outcome of one splitting run.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxSplittingRun {
    /// `ln Ẑ`, an estimate of `ln P(S ≤ 1)`; −∞ if the run was abandoned.
    pub ln_probability: f64,
    /// Number of stages.
    pub stages: usize,
    /// Fraction of proposals accepted over the run.
    pub acceptance: f64,
    /// `stages·(1 − survival)/(survival·N)`, the variance of ln Ẑ under perfect mixing.
    pub ideal_variance: f64,
    /// Latent vectors of the final particles inside the box (at most the number asked).
    pub inside: Vec<Vec<f64>>,
}

/// Stages after which a run is abandoned (it then reports −∞, counted as a divergence, as
/// is a run whose particles all tie at a level).
const MAX_STAGES: usize = 200_000;

/// Buffers of one run, reused across runs.
#[derive(Debug, Clone, Default)]
pub struct BoxSplittingWorkspace {
    latent: Vec<f64>,
    spare_latent: Vec<f64>,
    gradient: Vec<f64>,
    saved_gradient: Vec<f64>,
    scores: Vec<f64>,
    sorted: Vec<f64>,
    survivors: Vec<usize>,
    order: Vec<usize>,
    old: Vec<f64>,
    touched: Vec<usize>,
}

impl BoxSplitting {
    /// One independent run estimating `P(maxᵢ |gᵢ|/τᵢ ≤ 1)`, keeping up to `keep_inside`
    /// final particles that lie in the box.
    pub fn run<L: GradientLaw, R: Rng + ?Sized>(
        &self,
        law: &L,
        thresholds: &[f64],
        keep_inside: usize,
        rng: &mut R,
        ws: &mut BoxSplittingWorkspace,
        scratch: &mut L::Scratch,
    ) -> BoxSplittingRun {
        let count = self.particles.max(2);
        let (latent_len, n) = (law.latent_len(), law.dimension());
        let block = self.block.clamp(1, latent_len);
        let moves = ((self.sweeps * latent_len as f64 / block as f64).ceil() as usize).max(1);
        ws.latent.clear();
        ws.latent
            .extend((0..count * latent_len).map(|_| rng.sample::<f64, _>(StandardNormal)));
        ws.spare_latent.resize(count * latent_len, 0.0);
        ws.gradient.resize(count * n, 0.0);
        ws.scores.resize(count, 0.0);
        ws.order.clear();
        ws.order.extend(0..latent_len);
        let keep = ((self.survival * count as f64).ceil() as usize).clamp(1, count - 1);
        let (mut ln_z, mut beta) = (0.0, 1.0f64);
        let (mut proposed, mut accepted) = (0u64, 0u64);
        let mut stages = MAX_STAGES;
        for stage in 1..=MAX_STAGES {
            for i in 0..count {
                let g = &mut ws.gradient[i * n..(i + 1) * n];
                law.gradient(&ws.latent[i * latent_len..(i + 1) * latent_len], g, scratch);
                ws.scores[i] = box_score(g, thresholds);
            }
            ws.sorted.clear();
            ws.sorted.extend_from_slice(&ws.scores);
            ws.sorted.sort_unstable_by(f64::total_cmp);
            let level = ws.sorted[keep];
            let finish = |ln_z: f64, ws: &BoxSplittingWorkspace| {
                let inside: Vec<usize> = (0..count).filter(|&i| ws.scores[i] <= 1.0).collect();
                BoxSplittingRun {
                    ln_probability: ln_z + (inside.len() as f64 / count as f64).ln(),
                    stages: stage,
                    acceptance: accepted as f64 / proposed.max(1) as f64,
                    ideal_variance: stage as f64 * (1.0 - self.survival)
                        / (self.survival * count as f64),
                    inside: inside
                        .iter()
                        .take(keep_inside)
                        .map(|&i| ws.latent[i * latent_len..(i + 1) * latent_len].to_vec())
                        .collect(),
                }
            };
            if level <= 1.0 || level.is_nan() {
                return finish(ln_z, ws);
            }
            ws.survivors.clear();
            ws.survivors
                .extend((0..count).filter(|&i| ws.scores[i] < level));
            let survivors = ws.survivors.len();
            if survivors == 0 {
                // Every particle ties at the level: the population has collapsed onto copies
                // of one point (moves too small to separate them); the run is abandoned.
                stages = stage;
                break;
            }
            ln_z += (survivors as f64 / count as f64).ln();
            let offset: f64 = rng.random();
            for j in 0..count {
                let a = ws.survivors
                    [((j as f64 + offset) * survivors as f64 / count as f64) as usize % survivors];
                ws.spare_latent[j * latent_len..(j + 1) * latent_len]
                    .copy_from_slice(&ws.latent[a * latent_len..(a + 1) * latent_len]);
            }
            std::mem::swap(&mut ws.latent, &mut ws.spare_latent);
            let (stage_proposed, stage_accepted) = (proposed, accepted);
            for i in 0..count {
                let x = &mut ws.latent[i * latent_len..(i + 1) * latent_len];
                let g = &mut ws.gradient[i * n..(i + 1) * n];
                law.gradient(x, g, scratch);
                for _ in 0..moves {
                    // The first `block` entries of `order` become a uniform random subset.
                    for k in 0..block {
                        let pick = rng.random_range(k..latent_len);
                        ws.order.swap(k, pick);
                    }
                    let chosen = &ws.order[..block];
                    ws.old.clear();
                    ws.old.extend(chosen.iter().map(|&j| x[j]));
                    // The components this move can change: a few, or all of them.
                    ws.touched.clear();
                    let local = chosen.iter().all(|&j| match law.component_of(j) {
                        Some(i) => {
                            ws.touched.push(i);
                            true
                        }
                        None => false,
                    });
                    if local {
                        ws.saved_gradient.clear();
                        ws.saved_gradient.extend(ws.touched.iter().map(|&i| g[i]));
                    } else {
                        ws.saved_gradient.clear();
                        ws.saved_gradient.extend_from_slice(g);
                    }
                    let keep_part = (1.0 - beta * beta).sqrt();
                    for &j in chosen {
                        x[j] = keep_part * x[j] + beta * rng.sample::<f64, _>(StandardNormal);
                    }
                    law.update(x, chosen, &ws.old, g, scratch);
                    proposed += 1;
                    let inside = if local {
                        ws.touched
                            .iter()
                            .all(|&i| g[i].abs() < level * thresholds[i])
                    } else {
                        box_score(g, thresholds) < level
                    };
                    if inside {
                        accepted += 1;
                    } else {
                        for (&j, &v) in chosen.iter().zip(&ws.old) {
                            x[j] = v;
                        }
                        if local {
                            for (&i, &v) in ws.touched.iter().zip(&ws.saved_gradient) {
                                g[i] = v;
                            }
                        } else {
                            g.copy_from_slice(&ws.saved_gradient);
                        }
                    }
                }
            }
            let rate = (accepted - stage_accepted) as f64 / (proposed - stage_proposed) as f64;
            beta = (beta * (rate - self.target_acceptance).exp()).clamp(1e-4, 1.0);
        }
        BoxSplittingRun {
            ln_probability: f64::NEG_INFINITY,
            stages,
            acceptance: accepted as f64 / proposed.max(1) as f64,
            ideal_variance: f64::NAN,
            inside: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::{
        EquicorrelatedGradient, IndependentGradient, ScaleMixtureGradient, gaussian_box_threshold,
        ln_box_equicorrelated, ln_box_scale_mixture, scale_mixture_threshold,
    };
    use crate::mc::StreamRng;
    use crate::stats::{MeanVar, studentised_error_test};
    use rand::SeedableRng;

    const SETTINGS: BoxSplitting = BoxSplitting {
        particles: 100,
        survival: 0.5,
        sweeps: 2.0,
        block: 1,
        target_acceptance: 0.5,
    };

    /// `runs` independent runs (seeds `seed..seed + runs`): the mean of ln Ẑ plus half the
    /// ideal variance (Ẑ is unbiased for P, so its logarithm is low by about σ²/2) and the
    /// standard error of the runs' spread.
    fn estimate<L: GradientLaw>(law: &L, tau: f64, runs: u64, seed: u64) -> (f64, f64) {
        let thresholds = vec![tau; law.dimension()];
        let mut ws = BoxSplittingWorkspace::default();
        let mut scratch = law.scratch();
        let (mut mv, mut ideal) = (MeanVar::default(), MeanVar::default());
        for s in seed..seed + runs {
            let mut rng = StreamRng::seed_from_u64(s);
            let run = SETTINGS.run(law, &thresholds, 0, &mut rng, &mut ws, &mut scratch);
            mv.push(run.ln_probability);
            ideal.push(run.ideal_variance);
        }
        (mv.mean() + 0.5 * ideal.mean(), mv.standard_error())
    }

    #[test]
    fn direct_hits_count_the_box() {
        let law = IndependentGradient { n: 2 };
        let tau = gaussian_box_threshold(0.5);
        let mut rng = StreamRng::seed_from_u64(1);
        let samples = 400_000;
        let hits = direct_box_hits(&law, &[tau, tau], samples, &mut rng, &mut ());
        // p² = 0.25; binomial standard error √(0.25·0.75/N) = 6.8e-4; 5 of them.
        let estimate = hits as f64 / samples as f64;
        assert!((estimate - 0.25).abs() < 5.0 * 6.8e-4, "{estimate}");
    }

    /// The three exact laws at n = 30 and 160: 6 runs each, the mean within 5 standard
    /// errors (of the runs' spread) of the exact ln P.
    #[test]
    fn splitting_matches_the_exact_laws_at_n_30_and_160() {
        for n in [30, 160] {
            let tau = gaussian_box_threshold(0.1);
            let (mean, se) = estimate(&IndependentGradient { n }, tau, 6, 100);
            let exact = n as f64 * 0.1f64.ln();
            assert!(
                (mean - exact).abs() < 5.0 * se,
                "independent n={n}: {mean} ± {se} vs {exact}"
            );

            let law = EquicorrelatedGradient { n, rho: 0.2 };
            let (mean, se) = estimate(&law, tau, 6, 200);
            let exact = ln_box_equicorrelated(n, 0.2, tau);
            assert!(
                (mean - exact).abs() < 5.0 * se,
                "equicorrelated n={n}: {mean} ± {se} vs {exact}"
            );

            let m = 20;
            let tau = scale_mixture_threshold(0.1, m as f64);
            let (mean, se) = estimate(&ScaleMixtureGradient { n, m }, tau, 6, 300);
            let exact = ln_box_scale_mixture(n, m as f64, tau);
            assert!(
                (mean - exact).abs() < 5.0 * se,
                "mixture n={n}: {mean} ± {se} vs {exact}"
            );
        }
    }

    /// n = 1000 (ln P ≈ −2300, about 3 300 stages): two runs of the independent law, each
    /// corrected by half its ideal variance; each run's error is taken as its ideal standard
    /// deviation √(ideal_variance) ≈ 8 nats (the quick profile measures the real spread at
    /// 1.0–1.7 times it), 5 of them.
    #[test]
    fn splitting_reaches_n_1000() {
        let n = 1000;
        let law = IndependentGradient { n };
        let thresholds = vec![gaussian_box_threshold(0.1); n];
        let mut ws = BoxSplittingWorkspace::default();
        let exact = n as f64 * 0.1f64.ln();
        let settings = BoxSplitting {
            particles: 50,
            ..SETTINGS
        };
        for seed in [1, 2] {
            let mut rng = StreamRng::seed_from_u64(seed);
            let run = settings.run(&law, &thresholds, 0, &mut rng, &mut ws, &mut ());
            let sd = run.ideal_variance.sqrt();
            let corrected = run.ln_probability + 0.5 * run.ideal_variance;
            assert!(
                (corrected - exact).abs() < 5.0 * sd,
                "{corrected} vs {exact} (sd {sd})"
            );
        }
    }

    /// Honest error bars: 8 independent estimates of the equicorrelated ln P at n = 30, each
    /// the mean of 4 runs with the standard error of their spread, scatter around the exact
    /// value as those standard errors say ([`crate::stats::studentised_error_test`], t with
    /// 3 degrees of freedom, two-sided at the 0.1 % level).
    #[test]
    fn splitting_error_bars_are_honest() {
        let (n, rho) = (30, 0.3);
        let tau = gaussian_box_threshold(0.3);
        let exact = ln_box_equicorrelated(n, rho, tau);
        let law = EquicorrelatedGradient { n, rho };
        let t_scores: Vec<f64> = (0..8)
            .map(|k| {
                let (mean, se) = estimate(&law, tau, 4, 1000 + 10 * k);
                (mean - exact) / se
            })
            .collect();
        let test = studentised_error_test(&t_scores, 3.0).unwrap();
        assert!(test.p_value > 1e-3, "{test:?}: {t_scores:?}");
    }
}
