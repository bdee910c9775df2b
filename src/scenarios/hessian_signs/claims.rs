//! The verdicts on C1 and C2 from the per-cell estimates.

use super::{CellEstimate, Ensemble, GOE_THETA, HessianSigns};
use crate::scenarios::report::{Finding, Verdict, power_of_ten, short};
use crate::stats::{StatsError, two_sided_z, weighted_least_squares};

/// The verdict of one cell's test of `P(min) = 2⁻ⁿ` at level `level`: not rejected →
/// supported; rejected with minima rarer than the article says → supported with correction
/// (saddles dominate even more); rejected with minima more common → refuted.
pub(super) fn cell_verdict(p_value: f64, measured: f64, article: f64, level: f64) -> Verdict {
    if p_value >= level {
        Verdict::Supported
    } else if measured < article {
        Verdict::SupportedWithCorrection
    } else {
        Verdict::Refuted
    }
}

/// Cells with at least this many minima enter the fit of `ln P` against n; below it the
/// delta-method standard error of `ln p̂` is unreliable.
const MIN_MINIMA_FOR_FIT: u64 = 10;

/// One C1 and one C2 finding per ensemble.
pub(super) fn findings(
    experiment: &HessianSigns,
    rows: &[CellEstimate],
) -> Result<Vec<Finding>, StatsError> {
    let mut findings = Vec::new();
    let mut ensembles: Vec<Ensemble> = rows.iter().map(|r| r.ensemble).collect();
    ensembles.dedup();
    for ensemble in ensembles {
        let cells: Vec<&CellEstimate> = rows.iter().filter(|r| r.ensemble == ensemble).collect();
        findings.push(c1(experiment, ensemble, &cells));
        findings.push(c2(experiment, ensemble, &cells)?);
    }
    Ok(findings)
}

fn c1(experiment: &HessianSigns, ensemble: Ensemble, cells: &[&CellEstimate]) -> Finding {
    let rejected: Vec<&&CellEstimate> = cells
        .iter()
        .filter(|c| c.verdict != Verdict::Supported)
        .collect();
    let verdict = if rejected.is_empty() {
        Verdict::Supported
    } else if rejected
        .iter()
        .all(|c| c.verdict == Verdict::SupportedWithCorrection)
    {
        Verdict::SupportedWithCorrection
    } else {
        Verdict::Refuted
    };
    let shown = cells
        .iter()
        .rev()
        .find(|c| c.minima.successes > 0)
        .or(cells.last());
    let (article, theory, measured) = match shown {
        Some(c) => (
            format!("P(min, n={}) = 2^-{} = {}", c.n, c.n, short(c.article_p())),
            format!("{} ({})", short(c.theory_ln_p.0.exp()), c.theory_ln_p.1),
            format!(
                "{} [{}, {}] ({} of {} samples)",
                short(c.minima.estimate()),
                short(c.clopper_pearson.0),
                short(c.clopper_pearson.1),
                c.minima.successes,
                c.minima.trials
            ),
        ),
        None => Default::default(),
    };
    Finding {
        claim: "C1".into(),
        subject: ensemble.name().into(),
        article,
        theory,
        measured,
        verdict,
        test: format!(
            "exact binomial test of P(min) = 2^-n per n, Bonferroni over {} cells at family-wise level {}: {} of {} dimensions reject; interval: Clopper-Pearson {}%",
            experiment.cells.len(),
            experiment.significance,
            rejected.len(),
            cells.len(),
            experiment.confidence * 100.0
        ),
    }
}

/// C2: the expected number of critical points before a minimum, `1/P(n)`, at
/// `n = extrapolate_to`, against the step budget.
///
/// `ln P` is fitted as `a + b·n` by weighted least squares over the cells with enough minima
/// (weights `1/se²` from the delta method) and extrapolated with its standard error. For GOE
/// `ln P` is concave in n (≈ −θn²), so a straight line through small n over-estimates P at
/// large n: the extrapolated number of visits is a lower bound, which makes a "budget
/// exceeded" verdict conservative.
fn c2(
    experiment: &HessianSigns,
    ensemble: Ensemble,
    cells: &[&CellEstimate],
) -> Result<Finding, StatsError> {
    let target = experiment.extrapolate_to;
    let ln_budget = experiment.step_budget.ln();
    let article_ln_p = -(target as f64) * std::f64::consts::LN_2;
    let theory = match ensemble {
        Ensemble::Coin => format!("{} visits (exact 2^n)", power_of_ten(-article_ln_p)),
        Ensemble::Goe => format!(
            "{} visits (leading order e^(theta n^2))",
            power_of_ten(GOE_THETA * (target * target) as f64)
        ),
    };
    let fitted: Vec<&&CellEstimate> = cells
        .iter()
        .filter(|c| c.minima.successes >= MIN_MINIMA_FOR_FIT)
        .collect();
    let test = format!(
        "weighted LS fit of ln P = a + b n over n with >= {MIN_MINIMA_FOR_FIT} minima, extrapolated to n = {target}; supported if E[visits] exceeds the budget of {} steps at {}% confidence",
        short(experiment.step_budget),
        experiment.confidence * 100.0
    );
    let article = format!(
        "2^{target} = {} visits >> {} steps",
        power_of_ten(-article_ln_p),
        short(experiment.step_budget)
    );
    let distinct_n = {
        let mut ns: Vec<u64> = fitted.iter().map(|c| c.n).collect();
        ns.dedup();
        ns.len()
    };
    if distinct_n < 2 {
        return Ok(Finding {
            claim: "C2".into(),
            subject: ensemble.name().into(),
            article,
            theory,
            measured: format!("too few dimensions with >= {MIN_MINIMA_FOR_FIT} minima to fit"),
            verdict: Verdict::Inconclusive,
            test,
        });
    }
    let rows: Vec<Vec<f64>> = fitted.iter().map(|c| vec![1.0, c.n as f64]).collect();
    let y: Vec<f64> = fitted.iter().map(|c| c.minima.ln_estimate()).collect();
    let w: Vec<f64> = fitted
        .iter()
        .map(|c| c.minima.ln_standard_error().powi(-2))
        .collect();
    let fit = weighted_least_squares(&rows, &y, &w)?;
    let (ln_p, se) = fit.predict(&[1.0, target as f64]);
    let z = two_sided_z(experiment.confidence)?;
    let (ln_p_low, ln_p_high) = (ln_p - z * se, ln_p + z * se);
    let verdict = if ln_p_high < -ln_budget {
        if ln_p_high < article_ln_p {
            Verdict::SupportedWithCorrection
        } else {
            Verdict::Supported
        }
    } else if ln_p_low > -ln_budget {
        Verdict::Refuted
    } else {
        Verdict::Inconclusive
    };
    Ok(Finding {
        claim: "C2".into(),
        subject: ensemble.name().into(),
        article,
        theory,
        measured: format!(
            "{} [{}, {}] visits (slope b = {:.4} +- {:.4} per dimension)",
            power_of_ten(-ln_p),
            power_of_ten(-ln_p_high),
            power_of_ten(-ln_p_low),
            fit.coefficients[1],
            fit.standard_errors[1]
        ),
        verdict,
        test,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_verdicts() {
        assert_eq!(cell_verdict(0.5, 0.1, 0.1, 0.01), Verdict::Supported);
        assert_eq!(
            cell_verdict(1e-9, 0.01, 0.1, 0.01),
            Verdict::SupportedWithCorrection
        );
        assert_eq!(cell_verdict(1e-9, 0.5, 0.1, 0.01), Verdict::Refuted);
    }
}
