//! `hessian-signs`: claims C1 (a critical point is a minimum with probability 0.5^n) and C2
//! (so reaching a minimum takes about 2^n critical points).

mod claims;

use serde::{Deserialize, Serialize};
use toml::Table;

use super::Experiment;
use super::params::{ParamError, ParamReader};
use super::report::{Datum, Report, Table as DataTable};
use crate::landscape::{CoinHessian, DenseWigner, goe_2x2_positive_definite_probability};
use crate::mc::{Accumulator, StreamRng};
use crate::stats::{Proportion, StatsError, binomial_test};

/// The Hessian models this scenario samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensemble {
    /// The article's independent-sign diagonal model.
    Coin,
    /// The Gaussian Orthogonal Ensemble, sampled densely.
    Goe,
}

impl Ensemble {
    const NAMES: [&'static str; 2] = ["coin", "goe"];

    fn parse(name: &str) -> Ensemble {
        match name {
            "coin" => Ensemble::Coin,
            _ => Ensemble::Goe,
        }
    }

    /// The name used in parameters and CSV.
    pub fn name(self) -> &'static str {
        match self {
            Ensemble::Coin => "coin",
            Ensemble::Goe => "goe",
        }
    }

    /// The best known `ln P(minimum)` in dimension `n` and where it comes from.
    ///
    /// - coin: `ln P = n ln(1/2)` exactly.
    /// - GOE, n = 1: 1/2; n = 2: `(2 − √2)/4` exactly.
    /// - GOE, n ≥ 3: the large-deviation law `ln P ≈ −θn²`, `θ = ln 3 / 4` (D. S. Dean &
    ///   S. N. Majumdar, *PRL* 97, 160201, 2006; *PRE* 77, 041108, 2008); leading order only,
    ///   so it is a poor guide at small n.
    pub fn theory_ln_p_min(self, n: u64) -> (f64, &'static str) {
        match (self, n) {
            (Ensemble::Coin, _) => (-(n as f64) * std::f64::consts::LN_2, "exact 2^-n"),
            (Ensemble::Goe, 1) => (0.5f64.ln(), "exact 1/2"),
            (Ensemble::Goe, 2) => (
                goe_2x2_positive_definite_probability().ln(),
                "exact (2-sqrt2)/4",
            ),
            (Ensemble::Goe, _) => (
                -GOE_THETA * (n * n) as f64,
                "leading order exp(-theta n^2), Dean-Majumdar 2006",
            ),
        }
    }
}

/// `θ = ln 3 / 4`, the GOE large-deviation rate of `P(all eigenvalues > 0)`
/// (Dean & Majumdar, *PRL* 97, 160201, 2006, eq. 3).
pub const GOE_THETA: f64 = 0.274_653_072_167_027_1;

/// The resolved parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct HessianSigns {
    cells: Vec<(Ensemble, u64)>,
    replicates: u64,
    chunk: u64,
    confidence: f64,
    significance: f64,
    step_budget: f64,
    extrapolate_to: u64,
}

/// Index histogram of one cell: `histogram[k]` counts samples with `k` negative eigenvalues;
/// samples whose eigenvalues were not finite are counted in `diverged` and nowhere else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexHistogram {
    histogram: Vec<u64>,
    diverged: u64,
}

impl Accumulator for IndexHistogram {
    fn merge(&mut self, later: Self) {
        for (a, b) in self.histogram.iter_mut().zip(later.histogram) {
            *a += b;
        }
        self.diverged += later.diverged;
    }
}

impl IndexHistogram {
    fn samples(&self) -> u64 {
        self.histogram.iter().sum()
    }

    /// Mean and unbiased variance of the index, exactly from the histogram.
    fn index_moments(&self) -> (f64, f64) {
        let n = self.samples() as f64;
        let mean = self
            .histogram
            .iter()
            .enumerate()
            .map(|(k, c)| k as f64 * *c as f64)
            .sum::<f64>()
            / n;
        let m2: f64 = self
            .histogram
            .iter()
            .enumerate()
            .map(|(k, c)| (k as f64 - mean).powi(2) * *c as f64)
            .sum();
        (mean, m2 / (n - 1.0))
    }
}

impl Experiment for HessianSigns {
    type Accumulator = IndexHistogram;
    const SPEC: &'static str = include_str!("../../../scenarios/hessian-signs.toml");

    fn from_params(table: &Table) -> Result<Self, ParamError> {
        let mut p = ParamReader::new(table);
        let ensembles = p.choice_list("ensembles", &Ensemble::NAMES)?;
        let dims = p.integer_list("dims", 1..=200)?;
        let experiment = HessianSigns {
            cells: ensembles
                .iter()
                .flat_map(|e| dims.iter().map(move |&n| (Ensemble::parse(e), n)))
                .collect(),
            replicates: p.integer("replicates", 1..=1_000_000_000_000)?,
            chunk: p.integer("chunk", 1..=1_000_000_000)?,
            confidence: p.number("confidence", 0.0..=1.0, true)?,
            significance: p.number("significance", 0.0..=0.5, true)?,
            step_budget: p.number("step_budget", 1.0..=1e300, false)?,
            extrapolate_to: p.integer("extrapolate_to", 1..=1_000_000)?,
        };
        p.finish("hessian-signs")?;
        Ok(experiment)
    }

    fn work(&self) -> Vec<crate::mc::CellWork> {
        vec![
            crate::mc::CellWork {
                replicates: self.replicates,
                chunk: self.chunk
            };
            self.cells.len()
        ]
    }

    fn simulate(&self, cell: usize, replicates: u64, rng: &mut StreamRng) -> IndexHistogram {
        let (ensemble, n) = self.cells[cell];
        let mut acc = IndexHistogram {
            histogram: vec![0; n as usize + 1],
            diverged: 0,
        };
        match ensemble {
            Ensemble::Coin => {
                let model = CoinHessian::new(n as usize);
                for _ in 0..replicates {
                    acc.histogram[model.sample_index(rng)] += 1;
                }
            }
            Ensemble::Goe => {
                let mut sampler = DenseWigner::goe(n as usize);
                for _ in 0..replicates {
                    match sampler.sample_index(rng) {
                        Some(index) => acc.histogram[index] += 1,
                        None => acc.diverged += 1,
                    }
                }
            }
        }
        acc
    }

    fn report(&self, cells: &[IndexHistogram]) -> Result<Report, StatsError> {
        let rows = self
            .cells
            .iter()
            .zip(cells)
            .map(|(&(ensemble, n), acc)| self.cell_estimate(ensemble, n, acc))
            .collect::<Result<Vec<_>, _>>()?;
        let findings = claims::findings(self, &rows)?;
        Ok(Report {
            tables: vec![main_table(&rows), histogram_table(&rows)],
            findings,
        })
    }
}

/// Everything measured and predicted in one (ensemble, n) cell.
#[derive(Debug, Clone)]
struct CellEstimate {
    ensemble: Ensemble,
    n: u64,
    minima: Proportion,
    wilson: (f64, f64),
    clopper_pearson: (f64, f64),
    index_mean: f64,
    index_variance: f64,
    histogram: IndexHistogram,
    theory_ln_p: (f64, &'static str),
    p_value: f64,
    verdict: super::report::Verdict,
}

impl CellEstimate {
    /// The article's `P(min) = 2⁻ⁿ` (exact in f64 for n ≤ 1074).
    fn article_p(&self) -> f64 {
        0.5f64.powi(self.n as i32)
    }

    fn article_ln_p(&self) -> f64 {
        -(self.n as f64) * std::f64::consts::LN_2
    }
}

impl HessianSigns {
    /// Bonferroni level per cell.
    fn cell_level(&self) -> f64 {
        self.significance / self.cells.len() as f64
    }

    fn cell_estimate(
        &self,
        ensemble: Ensemble,
        n: u64,
        acc: &IndexHistogram,
    ) -> Result<CellEstimate, StatsError> {
        let minima = Proportion::new(acc.histogram[0], acc.samples());
        let article = 0.5f64.powi(n as i32);
        let p_value = binomial_test(minima.successes, minima.trials, article)?.p_value;
        let (index_mean, index_variance) = acc.index_moments();
        Ok(CellEstimate {
            ensemble,
            n,
            minima,
            wilson: minima.wilson(self.confidence)?,
            clopper_pearson: minima.clopper_pearson(self.confidence)?,
            index_mean,
            index_variance,
            histogram: acc.clone(),
            theory_ln_p: ensemble.theory_ln_p_min(n),
            p_value,
            verdict: claims::cell_verdict(p_value, minima.estimate(), article, self.cell_level()),
        })
    }
}

/// The main CSV: one row per (ensemble, n).
fn main_table(rows: &[CellEstimate]) -> DataTable {
    let mut table = DataTable::new(
        "",
        &[
            "ensemble",
            "n",
            "p_min",
            "p_min_se",
            "p_min_wilson_low",
            "p_min_wilson_high",
            "p_min_cp_low",
            "p_min_cp_high",
            "ln_p_min",
            "ln_p_min_se",
            "index_mean",
            "index_mean_se",
            "index_var",
            "expected_visits",
            "expected_visits_low",
            "expected_visits_high",
            "samples",
            "minima",
            "diverged",
            "article_p_min",
            "article_ln_p_min",
            "article_expected_visits",
            "theory_ln_p_min",
            "theory_source",
            "p_value",
            "verdict",
        ],
    );
    for r in rows {
        let samples = r.minima.trials as f64;
        table.push(vec![
            r.ensemble.name().into(),
            r.n.into(),
            r.minima.estimate().into(),
            r.minima.standard_error().into(),
            r.wilson.0.into(),
            r.wilson.1.into(),
            r.clopper_pearson.0.into(),
            r.clopper_pearson.1.into(),
            r.minima.ln_estimate().into(),
            r.minima.ln_standard_error().into(),
            r.index_mean.into(),
            (r.index_variance / samples).sqrt().into(),
            r.index_variance.into(),
            (1.0 / r.minima.estimate()).into(),
            (1.0 / r.clopper_pearson.1).into(),
            (1.0 / r.clopper_pearson.0).into(),
            r.minima.trials.into(),
            r.minima.successes.into(),
            r.histogram.diverged.into(),
            r.article_p().into(),
            r.article_ln_p().into(),
            (1.0 / r.article_p()).into(),
            r.theory_ln_p.0.into(),
            r.theory_ln_p.1.into(),
            r.p_value.into(),
            r.verdict.into(),
        ]);
    }
    table
}

/// The index histograms: one row per (ensemble, n, index), beside the article's
/// Binomial(n, 1/2) law.
fn histogram_table(rows: &[CellEstimate]) -> DataTable {
    let mut table = DataTable::new(
        "index-histogram",
        &[
            "ensemble",
            "n",
            "index",
            "count",
            "fraction",
            "article_fraction",
        ],
    );
    for r in rows {
        let samples = r.minima.trials as f64;
        for (k, &count) in r.histogram.histogram.iter().enumerate() {
            let article =
                statrs::function::factorial::binomial(r.n, k as u64) * 0.5f64.powi(r.n as i32);
            table.push(vec![
                r.ensemble.name().into(),
                r.n.into(),
                Datum::Integer(k as i64),
                count.into(),
                (count as f64 / samples).into(),
                article.into(),
            ]);
        }
    }
    table
}
