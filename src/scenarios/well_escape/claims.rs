//! The C5 findings of `well-escape` and their verdicts.

use super::super::escape::EscapeTimes;
use super::tables::{Prediction, finite_z};
use super::{Case, Target, WellEscape};
use crate::report::{Finding, Verdict, plus_minus, short};
use crate::stats::{StatsError, weighted_least_squares};

impl WellEscape {
    pub(super) fn findings(&self, cells: &[EscapeTimes]) -> Result<Vec<Finding>, StatsError> {
        let pairs: Vec<(&Case, &EscapeTimes)> = self.cells.iter().zip(cells).collect();
        let mut findings = Vec::new();
        let mut groups: Vec<(usize, f64, Target)> = Vec::new();
        for (case, _) in &pairs {
            if let Case::Well {
                dimension,
                tilt,
                target,
                ..
            } = case
                && !groups.contains(&(*dimension, *tilt, *target))
            {
                groups.push((*dimension, *tilt, *target));
            }
        }
        let level = self.significance / self.cells.len() as f64;
        for (dimension, tilt, target) in groups {
            let cells: Vec<(f64, &EscapeTimes, Prediction)> = pairs
                .iter()
                .filter_map(|(c, t)| match c {
                    Case::Well {
                        dimension: d,
                        tilt: tl,
                        target: tg,
                        ratio,
                    } if *d == dimension && *tl == tilt && *tg == target => {
                        Some((*ratio, *t, self.prediction(c)))
                    }
                    _ => None,
                })
                .filter(|(_, t, _)| t.steps.count() >= 2)
                .collect();
            if cells.len() < 2 {
                continue;
            }
            let x: Vec<Vec<f64>> = cells.iter().map(|(r, _, _)| vec![1.0, *r]).collect();
            let y: Vec<f64> = cells.iter().map(|(_, t, _)| t.steps.mean().ln()).collect();
            let w: Vec<f64> = cells
                .iter()
                .map(|(_, t, _)| (t.steps.mean() / t.steps.standard_error()).powi(2))
                .collect();
            let fit = weighted_least_squares(&x, &y, &w)?;
            let (slope, slope_se) = (fit.coefficients[1], fit.standard_errors[1]);
            let tests: Vec<(f64, crate::stats::TestOutcome)> = cells
                .iter()
                .filter_map(|(r, t, p)| p.exact.and_then(|m| finite_z(t, m)).map(|z| (*r, z)))
                .collect();
            let worst = tests.iter().map(|(_, z)| z.p_value).fold(1.0, f64::min);
            let failing: Vec<String> = tests
                .iter()
                .filter(|(_, z)| z.p_value < level)
                .map(|(r, z)| format!("dU/D={r} (z = {:.1})", z.statistic))
                .collect();
            let flagged = if failing.is_empty() {
                String::new()
            } else {
                format!("; FAILS the exact test at {}", failing.join(", "))
            };
            let censored: u64 = cells.iter().map(|(_, t, _)| t.censored).sum();
            let cv = cells
                .last()
                .map(|(_, t, _)| t.coefficient_of_variation())
                .unwrap_or(f64::NAN);
            findings.push(Finding {
                claim: "C5".into(),
                subject: format!("well d={dimension} tilt={tilt} to {}", if target == Target::Barrier { "barrier top" } else { "other well" }),
                article: "a well is left only by many wrong steps in a row: exit time exponential in barrier/noise".into(),
                theory: "Kramers/Arrhenius: ln T = dU/D + const (slope 1); exact mean exit of the discrete walk (Fredholm equation)".into(),
                measured: format!("slope of ln(mean steps) on dU/D: {} ({}); smallest p vs exact {}{flagged}; CV {} at the largest dU/D{}", plus_minus(slope, slope_se), fit.quality(), short(worst), short(cv), if censored > 0 { format!("; {censored} runs censored") } else { String::new() }),
                verdict: if slope - 5.0 * slope_se > 0.0 && censored == 0 { Verdict::Supported } else { Verdict::Inconclusive },
                test: format!("weighted LS fit of ln(mean steps) on dU/D: supported if the slope is positive by 5 standard errors; z tests of each mean against the exact mean exit time of the discrete walk at the Bonferroni level {}, every failing cell named", short(level)),
            });
        }
        // Saddle and well side by side at each noise level.
        let mut faster = 0;
        let mut compared = 0;
        let mut lines = Vec::new();
        for (case, saddle) in pairs
            .iter()
            .filter(|(c, _)| matches!(c, Case::Saddle { .. }))
        {
            let Case::Saddle { dimension, ratio } = case else {
                continue;
            };
            let well = pairs.iter().find(|(c, _)| matches!(c, Case::Well { dimension: d, ratio: r, tilt, target: Target::OtherWell } if d == dimension && r == ratio && *tilt == 0.0));
            if let Some((_, well)) = well {
                compared += 1;
                faster += usize::from(
                    saddle.steps.mean() + 5.0 * saddle.steps.standard_error()
                        < well.steps.mean() - 5.0 * well.steps.standard_error(),
                );
                if *dimension == 1 || lines.is_empty() {
                    lines.push(format!(
                        "dU/D={ratio}: {} vs {} steps (CV {} vs {})",
                        short(saddle.steps.mean()),
                        short(well.steps.mean()),
                        short(saddle.coefficient_of_variation()),
                        short(well.coefficient_of_variation())
                    ));
                }
            }
        }
        if compared > 0 {
            findings.push(Finding {
                claim: "C4/C5".into(),
                subject: "saddle vs well at equal noise".into(),
                article: "saddles are easy to leave, wells are not".into(),
                theory: "saddle: T ~ ln(1/sigma)/(eta gamma), CV = (pi/sqrt8)/(ln a E[T]) -> 0 as sigma -> 0; well: T ~ exp(dU/D), exponential law, CV -> 1".into(),
                measured: format!("saddle faster in {faster} of {compared} noise levels; {}", lines.join("; ")),
                verdict: if faster == compared { Verdict::Supported } else { Verdict::Refuted },
                test: "mean saddle exit below mean well exit by 5 standard errors each, at every noise level (untilted wells, to the other well); CV and KS exponentiality per cell in the CSV".into(),
            });
        }
        Ok(findings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::{Stop, chunk_stream};
    use crate::scenarios::Experiment;

    fn experiment(ratio: f64, learning_rate: f64) -> WellEscape {
        WellEscape {
            cells: vec![
                Case::Well {
                    dimension: 1,
                    tilt: 0.0,
                    ratio,
                    target: Target::OtherWell,
                },
                Case::Well {
                    dimension: 2,
                    tilt: 0.1,
                    ratio,
                    target: Target::Barrier,
                },
            ],
            replicates: 3000,
            chunk: 3000,
            budget: 1_000_000_000,
            learning_rate,
            saddle_radius: 1.0,
            significance: 0.01,
        }
    }

    #[test]
    fn mean_exit_matches_the_exact_discrete_walk() {
        // 5 standard errors, at the paper's η = 0.05: the reference is the discrete walk's own
        // mean exit time, so no Euler bias remains to be allowed for.
        let e = experiment(3.0, 0.05);
        for cell in 0..2 {
            let times = e.simulate(
                cell,
                3000,
                &mut chunk_stream(5, "well", cell as u64, 0),
                Stop::NEVER,
            );
            let exact = e.prediction(&e.cells[cell]).exact.unwrap();
            assert!(
                (times.steps.mean() - exact).abs() < 5.0 * times.steps.standard_error(),
                "cell {cell}: {} ± {} vs {exact}",
                times.steps.mean(),
                times.steps.standard_error()
            );
        }
    }

    #[test]
    fn exit_from_a_deep_well_is_memoryless() {
        // ΔU/D = 5: the exit time is close to exponential (KS at level 1e-6) with CV near 1.
        let e = experiment(5.0, 0.05);
        let times = e.simulate(0, 3000, &mut chunk_stream(6, "well", 0, 0), Stop::NEVER);
        let (_, p) = e.exponentiality(&times, times.steps.mean());
        assert!(p > 1e-6, "KS p = {p}");
        let cv = times.coefficient_of_variation();
        // Delta method for CV = σ̂/m̂ of Exp(1) (μ₃ = 2, μ₄ = 9): Var σ̂ ≈ 2/n, Var m̂ = 1/n,
        // Cov ≈ 1/n, so Var CV ≈ 2/n + 1/n − 2/n = 1/n.
        let cv_se = 1.0 / (times.steps.count() as f64).sqrt();
        assert!((cv - 1.0).abs() < 5.0 * cv_se, "CV {cv} ± {cv_se}");
    }
}

#[cfg(test)]
mod verdict_tests {
    use super::*;
    use crate::optim::Passage;
    use crate::scenarios::Experiment;
    use crate::scenarios::spec::ScenarioSpec;

    /// The quick grid: d ∈ {1, 10}, tilts {0, 0.1}, ΔU/D = 1..5, wells and saddles.
    fn quick() -> WellEscape {
        let spec = ScenarioSpec::parse(WellEscape::SPEC, "well-escape.toml").unwrap();
        WellEscape::from_params(&spec.profile("quick").unwrap()).unwrap()
    }

    /// Synthetic exit times: a well cell at ΔU/D = r takes about `well(r)` steps, a saddle
    /// cell `saddle` steps, each from four runs spread ±1 % (so the standard errors are small
    /// and known); `censor` adds a censored run to every well cell.
    fn cells(
        experiment: &WellEscape,
        well: impl Fn(f64) -> f64,
        saddle: f64,
        censor: bool,
    ) -> Vec<EscapeTimes> {
        experiment
            .cells
            .iter()
            .map(|case| {
                let mean = match case {
                    Case::Well { ratio, .. } => well(*ratio),
                    Case::Saddle { .. } => saddle,
                };
                let mut times = EscapeTimes::default();
                for spread in [0.99, 0.995, 1.005, 1.01] {
                    times.record(Passage::Reached((mean * spread).round() as u64));
                }
                if censor && matches!(case, Case::Well { .. }) {
                    times.record(Passage::Censored);
                }
                times
            })
            .collect()
    }

    fn verdicts(cells: &[EscapeTimes], subject_starts: &str) -> Vec<Verdict> {
        quick()
            .findings(cells)
            .unwrap()
            .iter()
            .filter(|f| f.subject.starts_with(subject_starts))
            .map(|f| f.verdict)
            .collect()
    }

    /// Arrhenius: supported when ln(mean steps) rises with ΔU/D by more than 5 standard errors
    /// and no run was censored; a flat law or a censored run leaves it inconclusive.
    #[test]
    fn the_arrhenius_verdict_follows_its_stated_test() {
        let e = quick();
        let arrhenius = cells(&e, |r| 1000.0 * r.exp(), 50.0, false);
        assert!(
            verdicts(&arrhenius, "well")
                .iter()
                .all(|v| *v == Verdict::Supported)
        );
        let flat = cells(&e, |_| 1000.0, 50.0, false);
        assert!(
            verdicts(&flat, "well")
                .iter()
                .all(|v| *v == Verdict::Inconclusive)
        );
        let censored = cells(&e, |r| 1000.0 * r.exp(), 50.0, true);
        assert!(
            verdicts(&censored, "well")
                .iter()
                .all(|v| *v == Verdict::Inconclusive)
        );
    }

    /// Saddle against well: supported only if the saddle is left faster (by 5 standard errors
    /// each) at every noise level, refuted otherwise.
    #[test]
    fn the_saddle_against_well_verdict_follows_its_stated_test() {
        let e = quick();
        let faster = cells(&e, |r| 1000.0 * r.exp(), 50.0, false);
        assert_eq!(verdicts(&faster, "saddle vs well"), [Verdict::Supported]);
        let slower = cells(&e, |r| 1000.0 * r.exp(), 1e6, false);
        assert_eq!(verdicts(&slower, "saddle vs well"), [Verdict::Refuted]);
    }
}
