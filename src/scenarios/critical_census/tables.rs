//! The tables and figures of `critical-census`.

use std::f64::consts::LN_2;

use super::CriticalCensus;
use super::census::distinct_points;
use super::claims::{INDEX_COLUMN, NetworkCensus};
use super::records::CensusRuns;
use crate::choice::Choice;
use crate::report::{DataTable, Datum, Plot, Report};
use crate::stats::{Proportion, StatsError};

/// `ln C(n, k) − n ln 2`: the log probability of index k under the essay's coin model.
fn ln_binomial_half(n: u64, k: u64) -> f64 {
    use statrs::function::gamma::ln_gamma;
    let (n, k) = (n as f64, k as f64);
    ln_gamma(n + 1.0) - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0) - n * LN_2
}

impl CriticalCensus {
    /// The report (`Experiment::report`).
    pub(super) fn build_report(&self, cells: &[CensusRuns]) -> Result<Report, StatsError> {
        let censuses = self.censuses(cells);
        let mut findings = Vec::new();
        for census in &censuses {
            findings.extend(self.network_findings(census)?);
        }
        Ok(Report {
            tables: vec![
                self.search_table(cells),
                self.points_table(&censuses),
                self.summary_table(&censuses)?,
                self.cell_table(cells),
                self.histogram_table(&censuses),
            ],
            findings,
            plots: vec![self.index_plot(&censuses), self.histogram_plot(&censuses)?],
        })
    }

    /// The main CSV: one row per search.
    fn search_table(&self, cells: &[CensusRuns]) -> DataTable {
        let mut table = DataTable::new(
            "",
            &[
                "data",
                "width",
                "start",
                "solver",
                "replicate",
                "outcome",
                "start_loss",
                "loss",
                "relative_gradient",
                "convergence_order",
                "iterations",
                "hessian_vector_products",
                "distance",
                "flatness",
                "lambda_min",
                "lambda_max",
                "index_tau_0",
                "index_tau_1e-4",
                "index_tau_1e-3",
                "index_tau_1e-2",
            ],
        );
        for (case, runs) in self.cells.iter().zip(cells) {
            for (replicate, run) in runs.runs.iter().enumerate() {
                let mut row: Vec<Datum> = vec![
                    case.data.name().into(),
                    (case.width as u64).into(),
                    case.start.name().into(),
                    case.solver.name().into(),
                    (replicate as u64).into(),
                    run.outcome.as_str().into(),
                    run.losses.0.into(),
                    run.losses.1.into(),
                    run.relative_gradient.into(),
                    run.order.into(),
                    run.cost.0.into(),
                    run.cost.1.into(),
                    run.distance.into(),
                    run.flatness.into(),
                    run.lambda.0.into(),
                    run.lambda.1.into(),
                ];
                row.extend(run.index.iter().map(|&i| Datum::from(i)));
                table.push(row);
            }
        }
        table
    }

    /// One row per distinct critical point of each network.
    fn points_table(&self, censuses: &[NetworkCensus]) -> DataTable {
        let mut table = DataTable::new(
            "points",
            &[
                "network",
                "parameters",
                "point",
                "loss",
                "found",
                "lambda_min",
                "lambda_max",
                "index_tau_0",
                "index_tau_1e-4",
                "index_tau_1e-3",
                "index_tau_1e-2",
                "index_fraction",
                "class",
            ],
        );
        for census in censuses {
            for (i, point) in census.points.iter().enumerate() {
                let mut row: Vec<Datum> = vec![
                    census.label.as_str().into(),
                    (census.parameters as u64).into(),
                    (i as u64).into(),
                    point.loss.into(),
                    point.found.into(),
                    point.lambda.0.into(),
                    point.lambda.1.into(),
                ];
                row.extend(point.index.iter().map(|&k| Datum::from(k)));
                row.push((point.index[INDEX_COLUMN] as f64 / census.parameters as f64).into());
                row.push(
                    if point.is_minimum(self.curvature_tolerance) {
                        "minimum"
                    } else {
                        "saddle"
                    }
                    .into(),
                );
                table.push(row);
            }
        }
        table
    }

    /// One row per network: the census and the estimates behind the verdicts.
    fn summary_table(&self, censuses: &[NetworkCensus]) -> Result<DataTable, StatsError> {
        let confidence = 1.0 - self.significance;
        let mut table = DataTable::new(
            "summary",
            &[
                "network",
                "parameters",
                "searches",
                "critical",
                "gradient_flat",
                "stalled",
                "distinct",
                "minima",
                "saddles",
                "minima_fraction",
                "minima_low",
                "minima_high",
                "distinct_all_solvers",
                "minima_all_solvers",
                "article_log10_p_min",
                "binomial_index_sd",
                "goe_index_sd",
                "spearman_rho",
                "spearman_p",
                "pb_critical_loss",
                "pb_amplitude",
                "pb_exponent",
                "pb_exponent_se",
                "pb_points",
            ],
        );
        for census in censuses {
            let (minima, distinct) = census.minima_share(self.curvature_tolerance);
            let (lo, hi) = if distinct > 0 {
                Proportion::new(minima, distinct).clopper_pearson(confidence)?
            } else {
                (f64::NAN, f64::NAN)
            };
            let (x, y): (Vec<f64>, Vec<f64>) = census.index_against_loss().into_iter().unzip();
            let rank = crate::stats::spearman(&x, &y).ok();
            let fit = census.power_law();
            let n = census.parameters as f64;
            table.push(vec![
                census.label.as_str().into(),
                (census.parameters as u64).into(),
                (census.runs.len() as u64).into(),
                census.ending("critical").into(),
                census.ending("gradient-flat").into(),
                census.ending("stalled").into(),
                distinct.into(),
                minima.into(),
                (distinct - minima).into(),
                (minima as f64 / distinct.max(1) as f64).into(),
                lo.into(),
                hi.into(),
                (census.points.len() as u64).into(),
                census.all_minima(self.curvature_tolerance).into(),
                (-n * 2f64.log10()).into(),
                (n / 4.0).sqrt().into(),
                (n.ln().sqrt() / std::f64::consts::PI).into(),
                rank.map(|t| t.statistic).into(),
                rank.map(|t| t.p_value).into(),
                fit.as_ref().map(|f| f.critical_loss).into(),
                fit.as_ref().map(|f| f.amplitude).into(),
                fit.as_ref().map(|f| f.exponent.0).into(),
                fit.as_ref().map(|f| f.exponent.1).into(),
                fit.as_ref()
                    .map_or(Datum::Missing, |f| (f.points as u64).into()),
            ]);
        }
        Ok(table)
    }

    /// One row per cell (start × solver): how the outcome depends on where a search starts
    /// and how it steps — the sampling bias of the census.
    fn cell_table(&self, cells: &[CensusRuns]) -> DataTable {
        let mut table = DataTable::new(
            "cells",
            &[
                "data",
                "width",
                "start",
                "solver",
                "searches",
                "critical",
                "gradient_flat",
                "stalled",
                "distinct",
                "minima",
                "mean_index_fraction",
                "mean_index_fraction_se",
                "mean_hessian_vector_products",
            ],
        );
        for (case, runs) in self.cells.iter().zip(cells) {
            let count = |o: &str| runs.runs.iter().filter(|r| r.outcome == o).count() as u64;
            let points = distinct_points(runs.runs.iter());
            let p = self.network(case).parameters() as f64;
            let mut fractions = crate::stats::MeanVar::default();
            for point in &points {
                fractions.push(point.index[INDEX_COLUMN] as f64 / p);
            }
            let mut products = crate::stats::MeanVar::default();
            runs.runs
                .iter()
                .for_each(|r| products.push(r.cost.1 as f64));
            table.push(vec![
                case.data.name().into(),
                (case.width as u64).into(),
                case.start.name().into(),
                case.solver.name().into(),
                (runs.runs.len() as u64).into(),
                count("critical").into(),
                count("gradient-flat").into(),
                count("stalled").into(),
                (points.len() as u64).into(),
                (points
                    .iter()
                    .filter(|x| x.is_minimum(self.curvature_tolerance))
                    .count() as u64)
                    .into(),
                fractions.mean().into(),
                fractions.standard_error().into(),
                products.mean().into(),
            ]);
        }
        table
    }

    /// The index histogram of the distinct critical points of each network beside the
    /// essay's Binomial(P, ½).
    fn histogram_table(&self, censuses: &[NetworkCensus]) -> DataTable {
        let mut table = DataTable::new(
            "index-histogram",
            &[
                "network",
                "index",
                "count",
                "fraction",
                "binomial_log10_probability",
            ],
        );
        for census in censuses {
            let total = census.points.len().max(1) as f64;
            let largest = census
                .points
                .iter()
                .map(|p| p.index[INDEX_COLUMN])
                .max()
                .unwrap_or(0);
            for k in 0..=largest {
                let count = census
                    .points
                    .iter()
                    .filter(|p| p.index[INDEX_COLUMN] == k)
                    .count() as u64;
                table.push(vec![
                    census.label.as_str().into(),
                    k.into(),
                    count.into(),
                    (count as f64 / total).into(),
                    (ln_binomial_half(census.parameters as u64, k) / std::f64::consts::LN_10)
                        .into(),
                ]);
            }
        }
        table
    }

    /// Index fraction against loss of the distinct critical points, with the fitted
    /// Pennington–Bahri curve dashed. No error bars: each point is one critical point, whose
    /// loss and index are exact to rounding.
    fn index_plot(&self, censuses: &[NetworkCensus]) -> Plot {
        let mut plot = Plot::scatter(
            "index-vs-loss",
            "Critical points: index against loss (Dauphin et al. 2014; Pennington & Bahri 2017)",
            "training loss",
            "index / parameters (tau = 1e-3 lambda_max)",
        );
        for census in censuses {
            for point in census.index_against_loss() {
                plot.add(census.label.clone(), point);
            }
            if let Some(fit) = census.power_law() {
                let top = census.points.iter().map(|p| p.loss).fold(0.0, f64::max);
                for k in 1..=60 {
                    let e = fit.critical_loss + (top - fit.critical_loss) * k as f64 / 60.0;
                    let alpha = fit.amplitude
                        * ((e - fit.critical_loss) / fit.critical_loss).powf(fit.exponent.0);
                    plot.add_reference(format!("{} fit", census.label), (e, alpha));
                }
            }
        }
        plot
    }

    /// The index histogram of the first network, each fraction with its Wilson interval at
    /// 1 − `significance` (the level of every interval of the scenario), against Binomial(P, ½) dashed, on a logarithmic axis (Binomial terms below the smallest
    /// `f64`, P > 1000, are left out).
    fn histogram_plot(&self, censuses: &[NetworkCensus]) -> Result<Plot, StatsError> {
        let confidence = 1.0 - self.significance;
        let mut plot = Plot::scatter(
            "index-histogram",
            "Index of the distinct critical points against the coin model Binomial(P, 1/2)",
            "index (tau = 1e-3 lambda_max)",
            &format!(
                "fraction of distinct critical points (Wilson {:.0} %)",
                100.0 * confidence
            ),
        );
        plot.log_y = true;
        let Some(census) = censuses.first() else {
            return Ok(plot);
        };
        let total = census.points.len().max(1) as f64;
        let p = census.parameters as u64;
        let step = (p / 200).max(1);
        for k in (0..=p).step_by(step as usize) {
            plot.add_reference("Binomial(P, 1/2)", (k as f64, ln_binomial_half(p, k).exp()));
        }
        let largest = census.points.iter().map(|x| x.index[INDEX_COLUMN]).max();
        for k in 0..=largest.unwrap_or(0) {
            let count = census
                .points
                .iter()
                .filter(|x| x.index[INDEX_COLUMN] == k)
                .count();
            if count > 0 {
                let found = Proportion::new(count as u64, census.points.len() as u64);
                plot.add_with_interval(
                    format!("{} (found)", census.label),
                    (k as f64, count as f64 / total),
                    found.wilson(confidence)?,
                );
            }
        }
        Ok(plot)
    }
}
