//! The verdict on every comparison of `remedies`, its table and its figure.
//!
//! For a comparison of arm A (with the remedy) against arm B (without) on the same seeds:
//! Fisher's exact test on the failure counts, and the Hodges–Lehmann estimate of the paired
//! `ln(steps_A/steps_B)` over the replicates where both reached the target, with the
//! Wilcoxon signed-rank interval; both at the Bonferroni level `α/m` over the m comparisons of
//! the run. The remedy **helps** when it fails significantly less, or is significantly faster
//! without failing significantly more; it **hurts** in the mirror case; a remedy that fails
//! less but is slower (or the reverse) is a trade-off and, like everything else, inconclusive.

use super::records::PairedRuns;
use super::studies::Study;
use crate::mc::Accumulator;
use crate::report::{DataTable, Finding, Plot, Report, Verdict, short};
use crate::stats::{Proportion, ShiftEstimate, StatsError, fisher_exact, hodges_lehmann};

/// One comparison's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Failures and runs with the remedy.
    pub with: (u64, u64),
    /// Failures and runs without.
    pub without: (u64, u64),
    /// Fisher's two-sided p-value on the failure counts.
    pub fisher_p: f64,
    /// Hodges–Lehmann log-ratio of steps with its interval, if at least two pairs succeeded.
    pub log_ratio: Option<ShiftEstimate>,
    /// What the remedy did.
    pub effect: Effect,
}

/// The outcome of a comparison at the family's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Fewer failures, or faster without more failures.
    Helps,
    /// More failures, or slower without fewer failures.
    Hurts,
    /// Fewer failures but slower, or faster but more failures.
    TradeOff,
    /// No significant difference.
    NoDifference,
}

impl Effect {
    fn name(self) -> &'static str {
        match self {
            Effect::Helps => "helps",
            Effect::Hurts => "hurts",
            Effect::TradeOff => "trade-off",
            Effect::NoDifference => "no significant difference",
        }
    }

    fn verdict(self) -> Verdict {
        match self {
            Effect::Helps => Verdict::Supported,
            Effect::Hurts => Verdict::Refuted,
            Effect::TradeOff | Effect::NoDifference => Verdict::Inconclusive,
        }
    }
}

/// Compares arm `with` against arm `without` of `runs` at level `level` (already divided by
/// the family size).
///
/// # Errors
/// A statistic that cannot be computed.
pub fn compare(
    runs: &PairedRuns,
    with: usize,
    without: usize,
    level: f64,
) -> Result<Comparison, StatsError> {
    let (a, b) = (runs.failures(with), runs.failures(without));
    let fisher_p = fisher_exact(a, b)?.p_value;
    let ratios = runs.log_ratios(with, without);
    let log_ratio = if ratios.len() >= 2 {
        Some(hodges_lehmann(&ratios, 1.0 - level)?)
    } else {
        None
    };
    let failure_rate = |(f, n): (u64, u64)| f as f64 / n.max(1) as f64;
    let fewer_failures = fisher_p < level && failure_rate(a) < failure_rate(b);
    let more_failures = fisher_p < level && failure_rate(a) > failure_rate(b);
    let faster = log_ratio.is_some_and(|r| r.high < 0.0);
    let slower = log_ratio.is_some_and(|r| r.low > 0.0);
    let effect = match (fewer_failures, more_failures, faster, slower) {
        (true, _, _, true) | (_, true, true, _) => Effect::TradeOff,
        (true, _, _, _) | (false, false, true, _) => Effect::Helps,
        (_, true, _, _) | (false, false, _, true) => Effect::Hurts,
        _ => Effect::NoDifference,
    };
    Ok(Comparison {
        with: a,
        without: b,
        fisher_p,
        log_ratio,
        effect,
    })
}

/// The `remedies` report: one row and one finding per comparison, and the figure of the
/// step ratios with their intervals.
///
/// # Errors
/// A statistic that cannot be computed.
pub fn report(
    studies: &[Study],
    cells: &[PairedRuns],
    significance: f64,
) -> Result<Report, StatsError> {
    // Every comparison: the studies' own at equal rates, then their groups each at its best
    // rate (chosen on these same runs, so that pair's interval is optimistic: a winner's
    // curse the table's `pairing` column names).
    let mut pairs: Vec<(usize, usize, usize, &str)> = Vec::new();
    for (k, (study, runs)) in studies.iter().zip(cells).enumerate() {
        pairs.extend(
            study
                .comparisons
                .iter()
                .map(|&(a, b)| (k, a, b, "same rate")),
        );
        for (with, without) in &study.best_rate_comparisons {
            if let (Some(a), Some(b)) =
                (best_arm(study, runs, with), best_arm(study, runs, without))
            {
                pairs.push((k, a, b, "each at its best rate"));
            }
        }
    }
    let family = pairs.len();
    let level = significance / family.max(1) as f64;
    let mut table = DataTable::new(
        "",
        &[
            "remedy",
            "landscape",
            "with",
            "without",
            "pairing",
            "runs",
            "failures_with",
            "failures_without",
            "diverged_with",
            "diverged_without",
            "jumps_with",
            "jumps_without",
            "unstable_failures_with",
            "unstable_failures_without",
            "median_steps_with",
            "median_steps_without",
            "end_curvature_runs_with",
            "end_lambda_max_with",
            "end_lambda_max_without",
            "end_outliers_with",
            "end_outliers_without",
            "end_top_share_with",
            "end_top_share_without",
            "paired_successes",
            "steps_ratio",
            "steps_ratio_low",
            "steps_ratio_high",
            "fisher_p",
            "level",
            "effect",
        ],
    );
    let mut findings = Vec::new();
    let mut plot = Plot::scatter(
        "ratios",
        "Steps with the remedy / without (Hodges-Lehmann, Bonferroni interval)",
        "comparison",
        "steps ratio (log scale; below 1: the remedy is faster)",
    );
    plot.log_y = true;
    let mut failures = Plot::scatter(
        "failures",
        "Failure rate with and without the remedy (Wilson 95 % intervals)",
        "comparison",
        "failed runs / runs",
    );
    let mut index = 0.0;
    for &(k, with, without, pairing) in &pairs {
        let (study, runs) = (&studies[k], &cells[k]);
        let c = compare(runs, with, without, level)?;
        let count =
            |arm: usize, f: &dyn Fn(&super::ArmRun) -> u64| -> u64 { runs.arm(arm).map(f).sum() };
        let diverged = |r: &super::ArmRun| u64::from(r.failure == Some(super::Failure::Diverged));
        let jumps = |r: &super::ArmRun| u64::from(r.jumps);
        let unstable = |r: &super::ArmRun| u64::from(r.unstable);
        let ratio = c
            .log_ratio
            .map(|r| (r.estimate.exp(), r.low.exp(), r.high.exp()));
        let curvature = (runs.mean_curvature(with), runs.mean_curvature(without));
        let (arm_with, arm_without) = (study.arms[with].label(), study.arms[without].label());
        table.push(vec![
            study.remedy.name().into(),
            study.landscape.name().into(),
            arm_with.clone().into(),
            arm_without.clone().into(),
            pairing.into(),
            runs.replicates().into(),
            c.with.0.into(),
            c.without.0.into(),
            count(with, &diverged).into(),
            count(without, &diverged).into(),
            count(with, &jumps).into(),
            count(without, &jumps).into(),
            count(with, &unstable).into(),
            count(without, &unstable).into(),
            runs.median_steps(with).into(),
            runs.median_steps(without).into(),
            curvature.0.map(|c| c.3 as f64).into(),
            curvature.0.map(|c| c.0).into(),
            curvature.1.map(|c| c.0).into(),
            curvature.0.map(|c| c.1).into(),
            curvature.1.map(|c| c.1).into(),
            curvature.0.map(|c| c.2).into(),
            curvature.1.map(|c| c.2).into(),
            (c.log_ratio.map_or(0, |r| r.pairs) as u64).into(),
            ratio.map(|r| r.0).into(),
            ratio.map(|r| r.1).into(),
            ratio.map(|r| r.2).into(),
            c.fisher_p.into(),
            level.into(),
            c.effect.name().into(),
        ]);
        if let Some(r) = c.log_ratio {
            plot.add_with_interval(
                study.remedy.name(),
                (index, r.estimate.exp()),
                (r.low.exp(), r.high.exp()),
            );
        }
        // The two arms of a comparison side by side, a fifth of a step apart.
        for (label, (failed, runs), offset) in [
            ("with the remedy", c.with, -0.1),
            ("without", c.without, 0.1),
        ] {
            let rate = failed as f64 / runs.max(1) as f64;
            let bounds = Proportion::new(failed, runs).wilson(0.95)?;
            failures.add_with_interval(label, (index + offset, rate), bounds);
        }
        index += 1.0;
        let measured = format!(
            "failures {}/{} with, {}/{} without (Fisher p = {}); steps ratio {}",
            c.with.0,
            c.with.1,
            c.without.0,
            c.without.1,
            short(c.fisher_p),
            ratio.map_or("n/a (fewer than two paired successes)".into(), |r| format!(
                "{} [{}, {}]",
                short(r.0),
                short(r.1),
                short(r.2)
            ))
        );
        findings.push(Finding {
                claim: "C9".into(),
                subject: format!(
                    "{} on {}: {} vs {}{}",
                    study.remedy.name(),
                    study.landscape.name(),
                    arm_with,
                    arm_without,
                    if pairing == "same rate" {
                        String::new()
                    } else {
                        format!(" ({pairing})")
                    }
                ),
                article: article(study.remedy).into(),
                theory: theory(study).into(),
                measured: format!("{measured}: {}", c.effect.name()),
                verdict: c.effect.verdict(),
                test: format!(
                    "paired on the same seeds: Fisher's exact test on failures and the Hodges-Lehmann interval of ln(steps ratio), both at the Bonferroni level {} = {significance}/{family}; supported = helps, refuted = hurts, inconclusive = no difference or a trade-off",
                    short(level)
                ),
            });
    }
    Ok(Report {
        tables: vec![table],
        findings,
        plots: vec![plot, failures],
    })
}

/// The arm of group `group` ([`super::studies::Arm::group`]) that failed least, then (among
/// those) had the fewest median steps; `None` if the study has no such arm.
fn best_arm(study: &Study, runs: &PairedRuns, group: &str) -> Option<usize> {
    (0..study.arms.len())
        .filter(|&a| study.arms[a].group() == group)
        .min_by(|&a, &b| {
            let key = |arm: usize| {
                (
                    runs.failures(arm).0,
                    runs.median_steps(arm).unwrap_or(f64::INFINITY),
                )
            };
            let (ka, kb) = (key(a), key(b));
            ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
        })
}

/// The essay's statement of each remedy.
fn article(remedy: super::studies::Remedy) -> &'static str {
    match remedy {
        super::studies::Remedy::Initialisation => "initialise away from the danger",
        super::studies::Remedy::Clipping => "gradient clipping gets you past a cliff",
        super::studies::Remedy::AdaptiveSteps => "let the optimizer adapt its steps",
        super::studies::Remedy::BatchNorm => "batch normalisation pulls you back",
        super::studies::Remedy::LossDesign => "design losses without flat regions",
    }
}

/// The best known expectation for a study.
fn theory(study: &Study) -> &'static str {
    use super::studies::{Landscape, Remedy};
    match (study.remedy, study.landscape) {
        (Remedy::Initialisation, Landscape::DeepLinear) => {
            "orthogonal layers keep every singular value of the product at 1 (dynamical isometry; Saxe et al. 2014, Pennington et al. 2017): faster than Gaussian layers, whose product's spectrum spreads with depth"
        }
        (Remedy::Initialisation, Landscape::Committee) => {
            "the plateau lasts ~ ln(1/d0)/(c eta), d0 the start's distance from the symmetric subspace, O(sqrt(q0/N)) for weights N(0, q0/N) (Biehl, Riegler & Woehler 1996): a larger initial norm shortens it logarithmically"
        }
        (Remedy::Initialisation, _) => {
            "a small initial scale starts beside the constant-output saddle: a plateau of length ~ ln(1/scale) (Saxe et al. 2014)"
        }
        (Remedy::LossDesign, _) => {
            "squared error on saturating outputs has gradient J(p - e_y), J = diag(p) - pp^T, which vanishes where the softmax saturates, right or wrong; cross-entropy's p - e_y does not (Glorot & Bengio 2010 found the quadratic cost's plateaus on sigmoid outputs)"
        }
        (Remedy::BatchNorm, _) => {
            "normalised layers tolerate larger learning rates and remove the Hessian's outliers (Ghorbani, Krishnan & Xiao 2019); the start's scale no longer matters for the pre-activations"
        }
        (Remedy::Clipping, _) => {
            "clipping bounds the jump off a cliff wall (Pascanu et al. 2013) but not the curvature limit eta*lambda < 2 at the minimum"
        }
        (Remedy::AdaptiveSteps, Landscape::Shelf | Landscape::HalfTrap) => {
            "normalised steps cross a shelf in W/eta steps whatever its slope g (against W/(eta g) for GD) and pass a degenerate point GD converges to"
        }
        (Remedy::AdaptiveSteps, _) => {
            "per-coordinate normalisation enlarges the small gradients of a plateau; no closed form for networks"
        }
    }
}
