//! The CSV tables of `hessian-signs`.

use super::HessianSigns;
use super::claims::{TAIL_TERMS, TailFit};
use super::estimates::CellEstimate;
use super::model::Model;
use super::theory;
use crate::report::{DataTable, Datum, Plot};
use crate::stats::{Proportion, StatsError};

/// Main table: one row per (model, method, n).
pub fn main_table(experiment: &HessianSigns, rows: &[CellEstimate]) -> DataTable {
    let mut table = DataTable::new(
        "",
        &[
            "ensemble",
            "model",
            "method",
            "n",
            "variance_ratio",
            "wishart_aspect",
            "wishart_shift",
            "p_min",
            "p_min_low",
            "p_min_high",
            "p_min_wilson_low",
            "p_min_wilson_high",
            "ln_p_min",
            "ln_p_min_se",
            "index_mean",
            "index_mean_se",
            "index_var",
            "index_var_se",
            "ln_expected_visits",
            "expected_visits",
            "samples",
            "minima",
            "diverged",
            "run_ln_sd",
            "run_stages",
            "article_p_min",
            "article_ln_p_min",
            "theory_ln_p_min",
            "theory_source",
            "theory_index_mean",
            "theory_index_var",
            "step_budget",
            "p_value",
            "verdict",
        ],
    );
    for r in rows {
        let model = &r.cell.model;
        let (ratio, aspect, shift) = match *model {
            Model::Wigner { ratio } => (Some(ratio), None, None),
            Model::Wishart { aspect, shift } => (None, Some(aspect), Some(shift)),
            _ => (None, None, None),
        };
        let theory_ln_p = theory::ln_p_min(model, r.cell.n);
        let index = r.index;
        table.push(vec![
            model.ensemble().into(),
            model.label().into(),
            r.cell.method.name().into(),
            r.cell.n.into(),
            ratio.into(),
            aspect.into(),
            shift.into(),
            r.ln_p.exp().into(),
            r.bounds.0.into(),
            r.bounds.1.into(),
            r.wilson.map(|w| w.0).into(),
            r.wilson.map(|w| w.1).into(),
            r.ln_p.into(),
            r.ln_se.into(),
            index.map(|i| i.mean).into(),
            index.map(|i| i.mean_se).into(),
            index.map(|i| i.variance).into(),
            index.map(|i| i.variance_se).into(),
            (-r.ln_p).into(),
            (-r.ln_p).exp().into(),
            r.samples.into(),
            r.minima.map_or(Datum::Missing, Datum::from),
            r.diverged.into(),
            r.runs.map(|x| x.0).into(),
            r.runs.map(|x| x.1).into(),
            0.5f64.powi(r.cell.n as i32).into(),
            r.article_ln_p().into(),
            theory_ln_p.map(|t| t.0).into(),
            theory_ln_p.map_or(Datum::Missing, |t| t.1.into()),
            theory::index_mean(model, r.cell.n).into(),
            theory::index_variance(model, r.cell.n).into(),
            experiment.step_budget.into(),
            r.p_value.into(),
            r.verdict.into(),
        ]);
    }
    table
}

/// Index laws: one row per (model, n, index); for the Gaussian field the fraction is
/// weighted by |det H| (the index law of critical points, by Kac–Rice).
pub fn histogram_table(rows: &[CellEstimate]) -> DataTable {
    let mut table = DataTable::new(
        "index-histogram",
        &[
            "model",
            "n",
            "index",
            "fraction",
            "weighting",
            "article_fraction",
        ],
    );
    for r in rows.iter().filter(|r| !r.index_law.is_empty()) {
        let weighting = if r.cell.model == Model::GaussianField {
            "abs-det"
        } else {
            "count"
        };
        for (k, &fraction) in r.index_law.iter().enumerate() {
            let article = statrs::function::factorial::binomial(r.cell.n, k as u64)
                * 0.5f64.powi(r.cell.n as i32);
            table.push(vec![
                r.cell.model.label().into(),
                r.cell.n.into(),
                Datum::Integer(k as i64),
                fraction.into(),
                weighting.into(),
                article.into(),
            ]);
        }
    }
    table
}

/// Tail fits: one row per (model, coefficient).
pub fn fit_table(fits: &[TailFit]) -> DataTable {
    let mut table = DataTable::new(
        "tail-fit",
        &[
            "model",
            "term",
            "coefficient",
            "standard_error",
            "theory",
            "dims",
            "chi_square",
            "dof",
        ],
    );
    for f in fits {
        for (j, term) in TAIL_TERMS.iter().enumerate() {
            let theory = (j == 0 && f.subject == Model::Goe.label()).then_some(-theory::GOE_THETA);
            table.push(vec![
                f.subject.clone().into(),
                (*term).into(),
                f.fit.coefficients[j].into(),
                f.fit.standard_errors[j].into(),
                theory.into(),
                f.dims
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
                    .into(),
                f.fit.chi_square.into(),
                (f.fit.dof as u64).into(),
            ]);
        }
    }
    table
}

/// ln P(min) against n for every model, beside the article's `n ln ½` and GOE's `−θn²`.
pub fn ln_p_plot(rows: &[CellEstimate]) -> Plot {
    let mut plot = Plot::new(
        "ln-p-min",
        "ln P(critical point is a minimum)",
        "dimension n",
        "ln P(min)",
    );
    for r in rows.iter().filter(|r| r.ln_p.is_finite()) {
        plot.add(r.cell.model.label(), (r.cell.n as f64, r.ln_p));
    }
    for (_, points) in plot.series.iter_mut() {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let largest = rows.iter().map(|r| r.cell.n).max().unwrap_or(1);
    let grid: Vec<f64> = (1..=largest).map(|n| n as f64).collect();
    for &n in &grid {
        plot.add_reference("article: n ln(1/2)", (n, -n * std::f64::consts::LN_2));
    }
    for &n in &grid {
        plot.add_reference("GOE: -(ln3/4) n^2", (n, -theory::GOE_THETA * n * n));
    }
    plot
}

/// The index law at one dimension of the coin, GOE and Wigner models — the article's model,
/// the repelling one and the crossover between them (the dense GOE sampler is the GOE's check,
/// and the Wishart laws, one-sided by construction, stay in the CSV so that the figure keeps
/// one colour per series) — with Wilson intervals at `confidence`, beside the article's
/// Binomial(n, ½) and the GOE law near its peak ([`theory::goe_index_law`]), on a log axis
/// (the tails span decades). The dimension is the largest one at which the coin and the GOE
/// both have full histograms, else the largest with any; `None` when no cell has a histogram.
pub fn index_law_plot(rows: &[CellEstimate], confidence: f64) -> Result<Option<Plot>, StatsError> {
    let counted = |r: &&CellEstimate| {
        !r.index_law.is_empty()
            && matches!(
                r.cell.model,
                Model::Coin | Model::Goe | Model::Wigner { .. }
            )
    };
    let with = |model: Model| -> Vec<u64> {
        rows.iter()
            .filter(counted)
            .filter(|r| r.cell.model == model)
            .map(|r| r.cell.n)
            .collect()
    };
    let (coin, goe) = (with(Model::Coin), with(Model::Goe));
    let shared = coin.iter().filter(|n| goe.contains(n)).max().copied();
    let Some(n) = shared.or_else(|| rows.iter().filter(counted).map(|r| r.cell.n).max()) else {
        return Ok(None);
    };
    let mut plot = Plot::new(
        "index-law",
        &format!(
            "Index law at n = {n} (Wilson {:.0} % intervals)",
            100.0 * confidence
        ),
        "index k (negative eigenvalues)",
        "P(index = k), log scale",
    );
    plot.log_y = true;
    for r in rows.iter().filter(counted).filter(|r| r.cell.n == n) {
        for (k, &fraction) in r.index_law.iter().enumerate() {
            let count = (fraction * r.samples as f64).round() as u64;
            let bounds = Proportion::new(count, r.samples).wilson(confidence)?;
            plot.add_with_interval(r.cell.model.label(), (k as f64, fraction), bounds);
        }
    }
    for k in 0..=n {
        let binomial = statrs::function::factorial::binomial(n, k) * 0.5f64.powi(n as i32);
        plot.add_reference("article: Binomial(n, 1/2)", (k as f64, binomial));
    }
    // The GOE law only where the plot has data to compare with: down to a tenth of the
    // smallest measured fraction (a Gaussian's tails would stretch the log axis for nothing).
    let floor = plot
        .series
        .iter()
        .filter(|(label, _)| !plot.references.contains(label))
        .flat_map(|(_, points)| points.iter().map(|p| p.1))
        .filter(|&y| y > 0.0)
        .fold(f64::INFINITY, f64::min)
        / 10.0;
    for k in 0..=n {
        let law = theory::goe_index_law(n, k);
        if law >= floor {
            plot.add_reference("GOE near the peak: Gaussian", (k as f64, law));
        }
    }
    Ok(Some(plot))
}
