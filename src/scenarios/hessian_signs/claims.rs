//! Fits of ln P(min) against n, and the verdicts on C1 and C2.

use super::HessianSigns;
use super::estimates::CellEstimate;
use super::model::{Method, Model};
use super::theory::{self, GOE_THETA};
use crate::report::{Finding, Verdict, power_of_ten, short};
use crate::stats::{
    LinearFit, StatsError, chi_square_homogeneity, two_sided_z, weighted_least_squares,
};

/// Regressors of the tail fit `ln P = −θn² + αn + β ln n + γ`; the first coefficient is −θ.
pub fn tail_regressors(n: u64) -> Vec<f64> {
    let n = n as f64;
    vec![n * n, n, n.ln(), 1.0]
}

/// Names of the tail-fit coefficients, in order.
pub const TAIL_TERMS: [&str; 4] = ["n^2", "n", "ln n", "1"];

/// A weighted least-squares fit of the rare-event estimates of one model.
#[derive(Debug, Clone)]
pub struct TailFit {
    /// Model label.
    pub subject: String,
    /// Dimensions used.
    pub dims: Vec<u64>,
    /// The fit of ln P on [`TAIL_TERMS`].
    pub fit: LinearFit,
}

/// Fits `ln P` on `(n², n, ln n, 1)` for each model's rare-event cells with `n ≥ fit_min_dim`
/// (weights `1/se²`); models with fewer than 5 such dimensions get no fit.
pub fn tail_fits(
    experiment: &HessianSigns,
    rows: &[CellEstimate],
) -> Result<Vec<TailFit>, StatsError> {
    let mut fits = Vec::new();
    for subject in subjects(rows, |r| r.cell.method != Method::Direct) {
        let used: Vec<&CellEstimate> = rows
            .iter()
            .filter(|r| r.cell.method != Method::Direct && r.cell.model.label() == subject)
            .filter(|r| {
                r.cell.n >= experiment.fit_min_dim
                    && r.ln_p.is_finite()
                    && r.ln_se > 0.0
                    && r.ln_se.is_finite()
            })
            .collect();
        if used.len() < 5 {
            continue;
        }
        let x: Vec<Vec<f64>> = used.iter().map(|r| tail_regressors(r.cell.n)).collect();
        let y: Vec<f64> = used.iter().map(|r| r.ln_p).collect();
        let w: Vec<f64> = used.iter().map(|r| r.ln_se.powi(-2)).collect();
        fits.push(TailFit {
            subject,
            dims: used.iter().map(|r| r.cell.n).collect(),
            fit: weighted_least_squares(&x, &y, &w)?,
        });
    }
    Ok(fits)
}

/// Distinct model labels among the rows that pass `keep`, in grid order.
fn subjects(rows: &[CellEstimate], keep: impl Fn(&CellEstimate) -> bool) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for row in rows.iter().filter(|r| keep(r)) {
        let label = row.cell.model.label();
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    labels
}

/// Every finding: C1 and C2 per model, the GOE tail exponent, the GOE index variance, and the
/// dense-versus-tridiagonal check.
pub fn findings(
    experiment: &HessianSigns,
    rows: &[CellEstimate],
    fits: &[TailFit],
) -> Result<Vec<Finding>, StatsError> {
    let z = two_sided_z(experiment.confidence)?;
    let mut findings = Vec::new();
    for subject in subjects(rows, |_| true) {
        let cells: Vec<&CellEstimate> = rows
            .iter()
            .filter(|r| r.cell.model.label() == subject)
            .collect();
        let fit = fits.iter().find(|f| f.subject == subject);
        findings.push(c1(experiment, &subject, &cells));
        if let Some(fit) = fit {
            findings.push(tail_exponent(experiment, &subject, fit, z));
        }
        findings.push(c2(experiment, &subject, &cells, fit, z)?);
    }
    if let Some(f) = goe_index_variance(experiment, rows, z)? {
        findings.push(f);
    }
    if let Some(f) = dense_versus_tridiagonal(experiment, rows)? {
        findings.push(f);
    }
    Ok(findings)
}

fn c1(experiment: &HessianSigns, subject: &str, cells: &[&CellEstimate]) -> Finding {
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
    // Show the largest dimension with a usable estimate.
    let shown = cells
        .iter()
        .rev()
        .find(|c| c.ln_p.is_finite() && c.ln_se.is_finite())
        .or(cells.last());
    let (article, theory, measured) = match shown {
        Some(c) => (
            format!(
                "P(min, n={}) = 2^-{} = {}",
                c.cell.n,
                c.cell.n,
                power_of_ten(c.article_ln_p())
            ),
            theory::ln_p_min(&c.cell.model, c.cell.n).map_or_else(
                || {
                    theory::limit_description(&c.cell.model)
                        .unwrap_or_else(|| "no closed form".to_string())
                },
                |(ln, source)| format!("{} ({source})", power_of_ten(ln)),
            ),
            match c.minima {
                Some(k) if c.ln_p.is_finite() => format!(
                    "{} [{}, {}] ({k} of {} samples)",
                    short(c.ln_p.exp()),
                    short(c.bounds.0),
                    short(c.bounds.1),
                    c.samples
                ),
                Some(_) => format!(
                    "no minimum in {} samples (P < {})",
                    c.samples,
                    short(c.bounds.1)
                ),
                None => format!(
                    "ln P = {:.2} +- {:.2} ({}, {} {})",
                    c.ln_p,
                    c.ln_se,
                    c.cell.method.name(),
                    c.samples,
                    if c.cell.method == Method::Splitting {
                        "runs"
                    } else {
                        "samples"
                    }
                ),
            },
        ),
        None => Default::default(),
    };
    Finding {
        claim: "C1".into(),
        subject: subject.into(),
        article,
        theory,
        measured,
        verdict,
        test: format!(
            "P(min) = 2^-n tested in each of {} dimensions (exact binomial test for counts, z test on ln P otherwise), Bonferroni over all {} cells at family-wise level {}: {} reject",
            cells.len(),
            experiment.cells.len(),
            experiment.significance,
            rejected.len()
        ),
    }
}

/// The exponent θ of `P ≈ e^{−θn²}` from the tail fit, against the article (θ = 0: its law is
/// linear in n) and Dean–Majumdar's `ln 3/4` for GOE.
fn tail_exponent(experiment: &HessianSigns, subject: &str, fit: &TailFit, z: f64) -> Finding {
    let theta = -fit.fit.coefficients[0];
    let se = fit.fit.standard_errors[0];
    let goe = subject == Model::Goe.label();
    let verdict = if theta - z * se > 0.0 {
        Verdict::SupportedWithCorrection
    } else if theta + z * se < 0.0 {
        Verdict::Refuted
    } else {
        Verdict::Supported
    };
    let agreement = if goe {
        format!(
            "; |theta - ln3/4| = {:.2} se",
            (theta - GOE_THETA).abs() / se
        )
    } else {
        String::new()
    };
    Finding {
        claim: "C1".into(),
        subject: format!("{subject} tail"),
        article: "ln P = -n ln 2: no n^2 term (theta = 0)".into(),
        theory: if goe {
            format!("theta = ln3/4 = {GOE_THETA:.5} (Dean-Majumdar 2006)")
        } else {
            "no closed form".into()
        },
        measured: format!(
            "theta = {theta:.5} +- {se:.5} from n = {}..{}{agreement} (chi2/dof = {:.2})",
            fit.dims.first().copied().unwrap_or(0),
            fit.dims.last().copied().unwrap_or(0),
            fit.fit.chi_square / fit.fit.dof.max(1) as f64
        ),
        verdict,
        test: format!(
            "weighted LS fit of ln P = -theta n^2 + a n + b ln n + c over rare-event cells with n >= {}; theta > 0 at {}% confidence means minima are rarer than 2^-n",
            experiment.fit_min_dim,
            experiment.confidence * 100.0
        ),
    }
}

/// C2: the expected number of critical points before a minimum, `1/P(n)`, at
/// `n = extrapolate_to`, against the step budget. Taken from a rare-event cell at that n if
/// there is one, else from the tail fit, else from a straight line `ln P = a + b·n` through
/// the direct cells with enough minima — for GOE `ln P` is concave in n (≈ −θn²), so the
/// straight line over-estimates P and the number of visits it gives is a lower bound, which
/// makes a "budget exceeded" verdict conservative.
fn c2(
    experiment: &HessianSigns,
    subject: &str,
    cells: &[&CellEstimate],
    fit: Option<&TailFit>,
    z: f64,
) -> Result<Finding, StatsError> {
    let target = experiment.extrapolate_to;
    let ln_budget = experiment.step_budget.ln();
    let article_ln_p = -(target as f64) * std::f64::consts::LN_2;
    let article = format!(
        "2^{target} = {} visits >> {} steps",
        power_of_ten(-article_ln_p),
        short(experiment.step_budget)
    );
    let theory = cells
        .first()
        .and_then(|c| theory::ln_p_min(&c.cell.model, target))
        .map_or_else(
            || "no closed form".to_string(),
            |(ln, source)| format!("{} visits ({source})", power_of_ten(-ln)),
        );
    let test = format!(
        "E[visits] = 1/P(n = {target}) against a budget of {} steps at {}% confidence",
        short(experiment.step_budget),
        experiment.confidence * 100.0
    );
    let direct_at_target = cells
        .iter()
        .find(|c| c.cell.n == target && c.cell.method != Method::Direct && c.ln_se.is_finite());
    let (ln_p, se, how) = if let Some(c) = direct_at_target {
        (
            c.ln_p,
            c.ln_se,
            format!("{} estimate at n = {target}", c.cell.method.name()),
        )
    } else if let Some(f) = fit.filter(|f| f.dims.iter().any(|&n| n != target)) {
        let (value, se) = f.fit.predict(&tail_regressors(target));
        (
            value,
            se,
            format!(
                "tail fit over n = {}..{}",
                f.dims[0],
                f.dims[f.dims.len() - 1]
            ),
        )
    } else {
        match straight_line(cells, target)? {
            Some((value, se, slope)) => (
                value,
                se,
                format!("straight line through direct cells, slope {slope:.4} per dimension"),
            ),
            None => {
                return Ok(Finding {
                    claim: "C2".into(),
                    subject: subject.into(),
                    article,
                    theory,
                    measured: "too few dimensions with >= 10 minima to extrapolate".into(),
                    verdict: Verdict::Inconclusive,
                    test,
                });
            }
        }
    };
    let (low, high) = (ln_p - z * se, ln_p + z * se);
    let verdict = if high < -ln_budget {
        if high < article_ln_p {
            Verdict::SupportedWithCorrection
        } else {
            Verdict::Supported
        }
    } else if low > -ln_budget {
        Verdict::Refuted
    } else {
        Verdict::Inconclusive
    };
    Ok(Finding {
        claim: "C2".into(),
        subject: subject.into(),
        article,
        theory,
        measured: format!(
            "{} [{}, {}] visits ({how})",
            power_of_ten(-ln_p),
            power_of_ten(-high),
            power_of_ten(-low)
        ),
        verdict,
        test,
    })
}

/// Cells with at least this many minima enter the straight-line extrapolation; below it the
/// delta-method standard error of `ln p̂` is unreliable.
const MIN_MINIMA_FOR_FIT: u64 = 10;

/// `ln P` at `target` from a weighted straight line through the direct cells with enough
/// minima (or finite weighted estimates), with its standard error and slope.
fn straight_line(
    cells: &[&CellEstimate],
    target: u64,
) -> Result<Option<(f64, f64, f64)>, StatsError> {
    let used: Vec<&&CellEstimate> = cells
        .iter()
        .filter(|c| {
            c.cell.method == Method::Direct && c.minima.is_none_or(|k| k >= MIN_MINIMA_FOR_FIT)
        })
        .filter(|c| c.ln_p.is_finite() && c.ln_se.is_finite() && c.ln_se > 0.0)
        .collect();
    let mut dims: Vec<u64> = used.iter().map(|c| c.cell.n).collect();
    dims.dedup();
    if dims.len() < 2 {
        return Ok(None);
    }
    let x: Vec<Vec<f64>> = used.iter().map(|c| vec![1.0, c.cell.n as f64]).collect();
    let y: Vec<f64> = used.iter().map(|c| c.ln_p).collect();
    let w: Vec<f64> = used.iter().map(|c| c.ln_se.powi(-2)).collect();
    let fit = weighted_least_squares(&x, &y, &w)?;
    let (value, se) = fit.predict(&[1.0, target as f64]);
    Ok(Some((value, se, fit.coefficients[1])))
}

/// The GOE index variance against `ln n/π²` (Majumdar, Nadal, Scardicchio & Vivo 2009) and
/// the article's Binomial(n, ½) variance n/4: slope of `Var` against `ln n`.
fn goe_index_variance(
    experiment: &HessianSigns,
    rows: &[CellEstimate],
    z: f64,
) -> Result<Option<Finding>, StatsError> {
    let used: Vec<(&CellEstimate, f64, f64)> = rows
        .iter()
        .filter(|r| r.cell.model == Model::Goe && r.cell.method == Method::Direct && r.cell.n >= 2)
        .filter_map(|r| r.index.map(|i| (r, i.variance, i.variance_se)))
        .filter(|(_, _, se)| *se > 0.0)
        .collect();
    if used.len() < 3 {
        return Ok(None);
    }
    let x: Vec<Vec<f64>> = used
        .iter()
        .map(|(r, _, _)| vec![1.0, (r.cell.n as f64).ln()])
        .collect();
    let y: Vec<f64> = used.iter().map(|(_, v, _)| *v).collect();
    let w: Vec<f64> = used.iter().map(|(_, _, se)| se.powi(-2)).collect();
    let fit = weighted_least_squares(&x, &y, &w)?;
    let (largest, variance, variance_se) = used[used.len() - 1];
    let n = largest.cell.n as f64;
    let verdict = if variance + z * variance_se < n / 4.0 {
        Verdict::SupportedWithCorrection
    } else {
        Verdict::Supported
    };
    let pi2 = std::f64::consts::PI.powi(2);
    Ok(Some(Finding {
        claim: "C1".into(),
        subject: "goe index variance".into(),
        article: format!(
            "index ~ Binomial(n, 1/2): Var = n/4 = {} at n = {}",
            short(n / 4.0),
            largest.cell.n
        ),
        theory: format!(
            "Var ~ ln n / pi^2 + C: slope 1/pi^2 = {:.4} (Majumdar et al. 2009)",
            1.0 / pi2
        ),
        measured: format!(
            "Var = {:.4} +- {:.4} at n = {}; slope {:.4} +- {:.4}",
            variance, variance_se, largest.cell.n, fit.coefficients[1], fit.standard_errors[1]
        ),
        verdict,
        test: format!(
            "Var(index) at the largest n below n/4 at {}% confidence means the index concentrates at n/2 far more than independent signs allow; slope from a weighted LS fit of Var on ln n",
            experiment.confidence * 100.0
        ),
    }))
}

/// Chi-square homogeneity of the index histograms of the dense and tridiagonal GOE samplers,
/// dimension by dimension, Bonferroni-corrected.
fn dense_versus_tridiagonal(
    experiment: &HessianSigns,
    rows: &[CellEstimate],
) -> Result<Option<Finding>, StatsError> {
    let histogram = |model: Model, n: u64| {
        rows.iter()
            .find(|r| {
                r.cell.model == model
                    && r.cell.n == n
                    && r.cell.method == Method::Direct
                    && !r.index_law.is_empty()
            })
            .map(|r| {
                r.index_law
                    .iter()
                    .map(|f| (f * r.samples as f64).round() as u64)
                    .collect::<Vec<u64>>()
            })
    };
    let mut tests = Vec::new();
    for row in rows
        .iter()
        .filter(|r| r.cell.model == Model::GoeDense && r.cell.n >= 2)
    {
        if let (Some(dense), Some(tridiagonal)) = (
            histogram(Model::GoeDense, row.cell.n),
            histogram(Model::Goe, row.cell.n),
        ) {
            tests.push((row.cell.n, chi_square_homogeneity(&dense, &tridiagonal)?));
        }
    }
    if tests.is_empty() {
        return Ok(None);
    }
    let level = experiment.significance / tests.len() as f64;
    let smallest = tests.iter().map(|(_, t)| t.p_value).fold(1.0, f64::min);
    let rejected = tests.iter().filter(|(_, t)| t.p_value < level).count();
    Ok(Some(Finding {
        claim: "check".into(),
        subject: "goe dense = tridiagonal".into(),
        article: "-".into(),
        theory: "same eigenvalue law (Dumitriu-Edelman 2002)".into(),
        measured: format!(
            "{} dimensions, smallest p = {}",
            tests.len(),
            short(smallest)
        ),
        verdict: if rejected == 0 {
            Verdict::Supported
        } else {
            Verdict::Refuted
        },
        test: format!(
            "chi-square homogeneity of index histograms per n, Bonferroni at family-wise level {}: {rejected} reject",
            experiment.significance
        ),
    }))
}
