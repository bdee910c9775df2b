//! The tables and figures of `convergence-audit`.

use super::claims::{LogRatio, PointClass, mean_drop_log_ratio, output_over_hidden};
use super::records::{CellRuns, INDEX_THRESHOLDS, SpectrumHistogram};
use super::{Case, ConvergenceAudit};
use crate::choice::Choice;
use crate::report::{DataTable, Datum, Look, Plot, Report, distinct, rank_among};
use crate::stats::{MeanVar, Proportion, StatsError, two_sided_z};

/// The columns naming a cell, first in every table.
const CELL_COLUMNS: [&str; 4] = ["width", "activation", "weight_decay", "trainer"];

fn cell_values(case: &Case) -> Vec<Datum> {
    vec![
        (case.width as u64).into(),
        case.activation.name().into(),
        case.weight_decay.into(),
        case.trainer.name().into(),
    ]
}

fn columns(rest: &[&'static str]) -> Vec<&'static str> {
    CELL_COLUMNS.iter().chain(rest).copied().collect()
}

impl ConvergenceAudit {
    /// The report (`Experiment::report`).
    pub(super) fn build_report(&self, cells: &[CellRuns]) -> Result<Report, StatsError> {
        let mut findings = Vec::new();
        for (case, runs) in self.cells.iter().zip(cells) {
            findings.extend(self.cell_findings(case, runs)?);
        }
        Ok(Report {
            tables: vec![
                self.plateau_table(cells),
                self.summary_table(cells)?,
                self.layer_table(cells),
                self.search_table(cells),
                self.history_table(cells),
                self.spectrum_table(cells),
                self.line_table(cells),
            ],
            findings,
            plots: vec![
                self.gradient_plot(cells),
                self.spectrum_plot(cells),
                self.index_plot(cells),
                self.line_plot(cells),
            ],
        })
    }

    /// The main CSV: one row per plateau of every run.
    fn plateau_table(&self, cells: &[CellRuns]) -> DataTable {
        let mut table = DataTable::new(
            "",
            &columns(&[
                "replicate",
                "plateau",
                "is_end",
                "epoch",
                "learning_rate",
                "loss",
                "train_accuracy",
                "test_accuracy",
                "gradient_norm",
                "relative_gradient",
                "output_gradient_norm",
                "output_relative_gradient",
                "output_over_hidden_rms",
                "lambda_min",
                "lambda_max",
                "index_tau_0",
                "index_tau_1e-4",
                "index_tau_1e-3",
                "index_tau_1e-2",
                "outliers",
                "top_k_share",
                "near_null_share",
                "negative_share",
                "class",
            ]),
        );
        for (case, runs) in self.cells.iter().zip(cells) {
            for (replicate, run) in runs.runs.iter().enumerate() {
                let initial_output = run.initial_gradient.1.last().copied().unwrap_or(f64::NAN);
                for (k, point) in run.plateaus.iter().enumerate() {
                    let output = point.layers.last().map_or(f64::NAN, |l| l.0);
                    let mut row = cell_values(case);
                    row.extend([
                        (replicate as u64).into(),
                        (k as u64).into(),
                        Datum::from(if k + 1 == run.plateaus.len() {
                            "yes"
                        } else {
                            "no"
                        }),
                        point.epoch.into(),
                        point.learning_rate.into(),
                        point.loss.into(),
                        point.accuracy.0.into(),
                        point.accuracy.1.into(),
                        point.gradient_norm.into(),
                        (point.gradient_norm / run.initial_gradient.0).into(),
                        output.into(),
                        (output / initial_output).into(),
                        output_over_hidden(point, &run.layer_sizes).into(),
                        point.lambda.0.into(),
                        point.lambda.1.into(),
                    ]);
                    row.extend(point.index.iter().map(|&i| Datum::from(i)));
                    row.extend([
                        point.outliers.into(),
                        point.shares.0.into(),
                        point.shares.1.into(),
                        point.shares.2.into(),
                        self.classify(point, run.initial_gradient.0).name().into(),
                    ]);
                    table.push(row);
                }
            }
        }
        table
    }

    /// One row per cell: counts, classes and the estimates behind the verdicts.
    fn summary_table(&self, cells: &[CellRuns]) -> Result<DataTable, StatsError> {
        let confidence = 1.0 - self.significance;
        let z = two_sided_z(confidence)?;
        let mut table = DataTable::new(
            "summary",
            &columns(&[
                "runs",
                "diverged",
                "no_plateau",
                "end_points",
                "not_critical",
                "not_critical_fraction",
                "not_critical_low",
                "not_critical_high",
                "minima",
                "saddles",
                "mean_index_tau_1e-3",
                "mean_test_accuracy",
                "output_over_hidden",
                "output_over_hidden_low",
                "output_over_hidden_high",
                "drop_ratio",
                "drop_ratio_low",
                "drop_ratio_high",
                "end_over_initial",
                "end_over_initial_low",
                "end_over_initial_high",
                "mean_top_k_share",
                "line_monotone_fraction",
                "search_critical",
                "search_gradient_flat",
                "search_stalled",
            ]),
        );
        for (case, runs) in self.cells.iter().zip(cells) {
            let ends: Vec<_> = runs
                .runs
                .iter()
                .filter_map(|r| r.end().map(|e| (r, e)))
                .collect();
            let classes: Vec<PointClass> = ends
                .iter()
                .map(|(r, e)| self.classify(e, r.initial_gradient.0))
                .collect();
            let count = |c: PointClass| classes.iter().filter(|&&x| x == c).count() as u64;
            let not_critical = count(PointClass::NotCritical);
            let proportion = Proportion::new(not_critical, ends.len() as u64);
            let (low, high) = if ends.is_empty() {
                (f64::NAN, f64::NAN)
            } else {
                proportion.clopper_pearson(confidence)?
            };
            let mean = |f: &dyn Fn(&super::records::PlateauAudit) -> f64| {
                let mut m = MeanVar::default();
                ends.iter()
                    .map(|(_, e)| f(e))
                    .filter(|v| v.is_finite())
                    .for_each(|v| m.push(v));
                m.mean()
            };
            let ratios = [
                LogRatio::of(
                    ends.iter()
                        .map(|(r, e)| output_over_hidden(e, &r.layer_sizes).ln()),
                ),
                LogRatio::of(ends.iter().filter_map(|(r, _)| mean_drop_log_ratio(r))),
                LogRatio::of(
                    ends.iter()
                        .map(|(r, e)| (e.gradient_norm / r.initial_gradient.0).ln()),
                ),
            ];
            let monotone = ends
                .iter()
                .filter(|(r, _)| crate::nets::largest_rise(&r.line) == 0.0)
                .count();
            let searches = |outcome: &str| {
                ends.iter()
                    .filter(|(r, _)| r.search.as_ref().is_some_and(|s| s.outcome == outcome))
                    .count() as u64
            };
            let diverged = runs.runs.iter().filter(|r| r.diverged).count() as u64;
            let mut row = cell_values(case);
            row.extend([
                (runs.runs.len() as u64).into(),
                diverged.into(),
                (runs.runs.len() as u64 - diverged - ends.len() as u64).into(),
                (ends.len() as u64).into(),
                not_critical.into(),
                proportion.estimate().into(),
                low.into(),
                high.into(),
                count(PointClass::Minimum).into(),
                count(PointClass::Saddle).into(),
                mean(&|e| e.index[2] as f64).into(),
                mean(&|e| e.accuracy.1).into(),
            ]);
            for ratio in &ratios {
                let (lo, hi) = ratio.interval(z).unwrap_or((f64::NAN, f64::NAN));
                row.extend([ratio.mean.exp().into(), lo.into(), hi.into()]);
            }
            row.extend([
                mean(&|e| e.shares.0).into(),
                (monotone as f64 / ends.len().max(1) as f64).into(),
                searches("critical").into(),
                searches("gradient-flat").into(),
                searches("stalled").into(),
            ]);
            table.push(row);
        }
        Ok(table)
    }

    /// One row per layer of every plateau: the gradient by layer.
    fn layer_table(&self, cells: &[CellRuns]) -> DataTable {
        let mut table = DataTable::new(
            "layers",
            &columns(&[
                "replicate",
                "plateau",
                "layer",
                "parameters",
                "gradient_norm",
                "gradient_rms",
                "relative_to_initial",
            ]),
        );
        for (case, runs) in self.cells.iter().zip(cells) {
            for (replicate, run) in runs.runs.iter().enumerate() {
                for (k, point) in run.plateaus.iter().enumerate() {
                    for (layer, &(norm, rms)) in point.layers.iter().enumerate() {
                        let mut row = cell_values(case);
                        row.extend([
                            (replicate as u64).into(),
                            (k as u64).into(),
                            (layer as u64 + 1).into(),
                            run.layer_sizes[layer].into(),
                            norm.into(),
                            rms.into(),
                            (norm / run.initial_gradient.1[layer]).into(),
                        ]);
                        table.push(row);
                    }
                }
            }
        }
        table
    }

    /// One row per run: the nearest-critical-point search and the straight line.
    fn search_table(&self, cells: &[CellRuns]) -> DataTable {
        let mut table = DataTable::new(
            "search",
            &columns(&[
                "replicate",
                "outcome",
                "distance",
                "loss_change",
                "relative_gradient",
                "flatness",
                "index_tau_1e-3",
                "lambda_min_over_max",
                "hessian_vector_products",
                "line_largest_rise",
                "line_start_loss",
                "line_end_loss",
            ]),
        );
        for (case, runs) in self.cells.iter().zip(cells) {
            for (replicate, run) in runs.runs.iter().enumerate() {
                let Some(search) = &run.search else { continue };
                let mut row = cell_values(case);
                row.extend([
                    (replicate as u64).into(),
                    search.outcome.as_str().into(),
                    search.distance.into(),
                    search.loss_change.into(),
                    search.relative_gradient.into(),
                    search.flatness.into(),
                    search.index.into(),
                    search.lambda_ratio.into(),
                    search.products.into(),
                    crate::nets::largest_rise(&run.line).into(),
                    run.line.first().copied().into(),
                    run.line.last().copied().into(),
                ]);
                table.push(row);
            }
        }
        table
    }

    /// The thinned training histories, one row per (run, epoch, layer); layer 0 is the whole
    /// network.
    fn history_table(&self, cells: &[CellRuns]) -> DataTable {
        let mut table = DataTable::new(
            "history",
            &columns(&["replicate", "epoch", "loss", "layer", "gradient_norm"]),
        );
        for (case, runs) in self.cells.iter().zip(cells) {
            for (replicate, run) in runs.runs.iter().enumerate() {
                for point in &run.history {
                    let norms = std::iter::once(point.gradient_norm)
                        .chain(point.layer_norms.iter().copied());
                    for (layer, norm) in norms.enumerate() {
                        let mut row = cell_values(case);
                        row.extend([
                            (replicate as u64).into(),
                            point.epoch.into(),
                            point.loss.into(),
                            (layer as u64).into(),
                            norm.into(),
                        ]);
                        table.push(row);
                    }
                }
            }
        }
        table
    }

    /// The end-point spectra of each cell, pooled over runs, by sign and `log10|λ|` bin.
    fn spectrum_table(&self, cells: &[CellRuns]) -> DataTable {
        let mut table = DataTable::new(
            "spectrum",
            &columns(&["sign", "log10_abs_lambda", "count", "fraction"]),
        );
        for (case, runs) in self.cells.iter().zip(cells) {
            let pooled = pooled_spectrum(runs);
            let total = pooled.total().max(1) as f64;
            let mut push = |sign: &str, x: Datum, n: u64| {
                let mut row = cell_values(case);
                row.extend([sign.into(), x, n.into(), (n as f64 / total).into()]);
                table.push(row);
            };
            push("zero", Datum::Missing, pooled.zero);
            for (sign, counts) in [
                ("positive", &pooled.positive),
                ("negative", &pooled.negative),
            ] {
                for (bin, &n) in counts.iter().enumerate() {
                    push(sign, SpectrumHistogram::centre(bin).into(), n);
                }
            }
        }
        table
    }

    /// The loss along the straight line from the initial to the final weights, mean and sd
    /// over runs, per cell.
    fn line_table(&self, cells: &[CellRuns]) -> DataTable {
        let mut table =
            DataTable::new("line", &columns(&["alpha", "mean_loss", "sd_loss", "runs"]));
        for (case, runs) in self.cells.iter().zip(cells) {
            for (i, m) in line_moments(runs, self.line_points).iter().enumerate() {
                let mut row = cell_values(case);
                row.extend([
                    (i as f64 / (self.line_points - 1) as f64).into(),
                    m.mean().into(),
                    m.sample_sd().into(),
                    m.count().into(),
                ]);
                table.push(row);
            }
        }
        table
    }

    /// Gradient norm by layer through training for the first run of the first cell, on a
    /// logarithmic axis, with the learning-rate drops as dashed vertical lines.
    fn gradient_plot(&self, cells: &[CellRuns]) -> Plot {
        let mut plot = Plot::new(
            "gradient",
            "Gradient norm through training (first run of the first cell)",
            "epoch",
            "gradient norm",
        );
        plot.log_y = true;
        let Some(run) = cells.first().and_then(|c| c.runs.first()) else {
            return plot;
        };
        let layers = run.layer_sizes.len();
        let mut range = (f64::INFINITY, f64::NEG_INFINITY);
        for point in &run.history {
            let y = point.gradient_norm;
            if y.is_finite() && y > 0.0 {
                range = (range.0.min(y), range.1.max(y));
            }
            plot.add("whole network", (point.epoch as f64, y));
            for (l, norm) in point.layer_norms.iter().enumerate() {
                let name = if l + 1 == layers {
                    "output layer".to_string()
                } else {
                    format!("hidden layer {}", l + 1)
                };
                let y = *norm;
                if y.is_finite() && y > 0.0 {
                    range = (range.0.min(y), range.1.max(y));
                }
                plot.add(name, (point.epoch as f64, y));
            }
        }
        for (k, p) in run.plateaus.iter().enumerate() {
            let label = if k + 1 < run.plateaus.len() {
                format!("plateau {}: rate / {}", k + 1, self.schedule.drop_factor)
            } else {
                format!("plateau {}: end", k + 1)
            };
            plot.add_reference(label.clone(), (p.epoch as f64, range.0));
            plot.add_reference(label, (p.epoch as f64, range.1));
        }
        plot
    }

    /// The end-point Hessian spectrum pooled over every run of every cell: fraction of
    /// eigenvalues per quarter-decade bin of |λ|, positive and negative side, both axes
    /// logarithmic. No error bars: the eigenvalues of one Hessian are not independent draws.
    fn spectrum_plot(&self, cells: &[CellRuns]) -> Plot {
        let mut plot = Plot::new(
            "spectrum",
            "Hessian spectrum at the end points (all runs)",
            "|eigenvalue|",
            "fraction of eigenvalues per quarter decade",
        );
        plot.log_x = true;
        plot.log_y = true;
        let mut pooled = SpectrumHistogram::default();
        for runs in cells {
            pooled.merge(&pooled_spectrum(runs));
        }
        let total = pooled.total().max(1) as f64;
        for (sign, counts) in [
            ("positive", &pooled.positive),
            ("negative", &pooled.negative),
        ] {
            for (bin, &n) in counts.iter().enumerate() {
                if n > 0 {
                    plot.add(
                        format!("{sign} eigenvalues"),
                        (10f64.powf(SpectrumHistogram::centre(bin)), n as f64 / total),
                    );
                }
            }
        }
        plot
    }

    /// The look of a cell in the per-cell figures: one colour per activation and trainer, one
    /// marker per width and weight decay (their ranks in the grid), so that a 2 × 2 × 2 × 2
    /// grid draws 4 colours × 4 markers with no two cells alike and the legend reads by
    /// group; larger grids wrap around the palette and the markers.
    pub(super) fn look(&self, case: &Case) -> Look {
        let cells = &self.cells;
        let activation = rank_among(cells.iter().map(|c| c.activation), &case.activation);
        let trainer = rank_among(cells.iter().map(|c| c.trainer), &case.trainer);
        let width = rank_among(cells.iter().map(|c| c.width), &case.width);
        let decay = rank_among(
            cells.iter().map(|c| c.weight_decay.to_bits()),
            &case.weight_decay.to_bits(),
        );
        let trainers = distinct(cells.iter().map(|c| c.trainer)).len();
        let decays = distinct(cells.iter().map(|c| c.weight_decay.to_bits())).len();
        Look {
            colour: activation * trainers + trainer,
            marker: width * decays + decay,
        }
    }

    /// Index fraction (at 10⁻³ λ_max) against the training loss at every plateau of every
    /// run, one look per cell (Dauphin et al. 2014, fig. 1).
    fn index_plot(&self, cells: &[CellRuns]) -> Plot {
        let mut plot = Plot::scatter(
            "index-vs-loss",
            "Index against loss at every plateau (Dauphin et al. 2014)",
            "training loss",
            "index / parameters (tau = 1e-3 lambda_max)",
        );
        let middle = INDEX_THRESHOLDS
            .iter()
            .position(|&t| t == 1e-3)
            .expect("1e-3 is a threshold");
        for (case, runs) in self.cells.iter().zip(cells) {
            plot.set_look(case.label(), self.look(case));
            for run in runs.runs.iter().filter(|r| !r.diverged) {
                let parameters: u64 = run.layer_sizes.iter().sum();
                for point in &run.plateaus {
                    plot.add(
                        case.label(),
                        (point.loss, point.index[middle] as f64 / parameters as f64),
                    );
                }
            }
        }
        plot
    }

    /// Mean loss (± 2 SE over runs) along the straight line from the initial to the final
    /// weights, one line and look per cell.
    fn line_plot(&self, cells: &[CellRuns]) -> Plot {
        let mut plot = Plot::new(
            "line",
            "Loss along the straight line from initial to final weights (Goodfellow et al. 2015)",
            "alpha",
            "mean training loss (± 2 SE)",
        );
        for (case, runs) in self.cells.iter().zip(cells) {
            plot.set_look(case.label(), self.look(case));
            for (i, m) in line_moments(runs, self.line_points).iter().enumerate() {
                if m.count() > 0 {
                    plot.add_with_interval(
                        case.label(),
                        (i as f64 / (self.line_points - 1) as f64, m.mean()),
                        m.band(2.0),
                    );
                }
            }
        }
        plot
    }
}

fn pooled_spectrum(runs: &CellRuns) -> SpectrumHistogram {
    let mut pooled = SpectrumHistogram::default();
    for run in &runs.runs {
        pooled.merge(&run.spectrum);
    }
    pooled
}

fn line_moments(runs: &CellRuns, points: usize) -> Vec<MeanVar> {
    let mut moments = vec![MeanVar::default(); points];
    for run in runs.runs.iter().filter(|r| r.line.len() == points) {
        for (m, &l) in moments.iter_mut().zip(&run.line) {
            if l.is_finite() {
                m.push(l);
            }
        }
    }
    moments
}
