//! The grid cells of `hessian-signs`: which Hessian model, which dimension, which estimator;
//! how one chunk of a cell is simulated; what it accumulates.

use rand::RngExt;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::landscape::{
    CoinHessian, DenseWigner, ShiftedWishart, SplittingWorkspace, TridiagonalEnsemble,
    WallSplitting,
};
use crate::mc::{Accumulator, Stop, StreamRng};
use crate::stats::{LogSumExp, MeanVar};

/// A Hessian model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// The article's independent-sign diagonal model.
    Coin,
    /// GOE through the Dumitriu–Edelman tridiagonal model (O(n) per sample).
    Goe,
    /// GOE sampled densely (the cross-check of the tridiagonal model).
    GoeDense,
    /// Dense Wigner matrix with diagonal/off-diagonal variance ratio `ratio`.
    Wigner {
        /// Diagonal variance over off-diagonal variance (2 is GOE, ∞ the article's model).
        ratio: f64,
    },
    /// `XᵀX/m − μI` with `γ = n/m`.
    Wishart {
        /// Aspect ratio γ = n/m.
        aspect: f64,
        /// Shift μ.
        shift: f64,
    },
    /// Hessian at a critical point of an isotropic Gaussian field: `W + zI`, weighted by |det|.
    GaussianField,
}

impl Model {
    /// The label used in CSV and verdicts, with the model's parameters.
    pub fn label(&self) -> String {
        match self {
            Model::Coin => "coin".into(),
            Model::Goe => "goe".into(),
            Model::GoeDense => "goe-dense".into(),
            Model::Wigner { ratio } => format!("wigner(ratio={ratio})"),
            Model::Wishart { aspect, shift } => format!("wishart(aspect={aspect},shift={shift})"),
            Model::GaussianField => "gaussian-field".into(),
        }
    }

    /// The ensemble name as given in the `ensembles` parameter.
    pub fn ensemble(&self) -> &'static str {
        match self {
            Model::Coin => "coin",
            Model::Goe => "goe",
            Model::GoeDense => "goe-dense",
            Model::Wigner { .. } => "wigner",
            Model::Wishart { .. } => "wishart",
            Model::GaussianField => "gaussian-field",
        }
    }
}

/// How a cell estimates P(minimum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Plain sampling, counting minima (weighted by |det| for the Gaussian field).
    Direct,
    /// Adaptive multilevel splitting on the smallest eigenvalue (GOE tail).
    Splitting,
    /// Importance sampling of the shift z (Gaussian-field tail).
    Importance,
}

impl Method {
    /// Name in the CSV.
    pub fn name(self) -> &'static str {
        match self {
            Method::Direct => "direct",
            Method::Splitting => "splitting",
            Method::Importance => "importance",
        }
    }
}

/// One grid cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    /// The Hessian model.
    pub model: Model,
    /// Dimension n.
    pub n: u64,
    /// The estimator.
    pub method: Method,
}

/// Settings of the estimators that are not part of a cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimators {
    /// Count every negative eigenvalue (`true`) or stop at the first negative pivot.
    pub full_index: bool,
    /// Particles of a splitting run.
    pub particles: usize,
    /// Fraction of particles kept per splitting stage.
    pub survival: f64,
    /// Gibbs sweeps per splitting stage.
    pub sweeps: usize,
}

/// Index histogram of one cell: `histogram[k]` counts samples with `k` negative eigenvalues
/// (with `full_index = false` only bins 0 = minimum and 1 = not a minimum are used);
/// samples whose eigenvalues were not finite are counted in `diverged` and nowhere else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexHistogram {
    /// Counts per index.
    pub histogram: Vec<u64>,
    /// Non-finite samples.
    pub diverged: u64,
}

/// Sums of importance weights carried as logarithms: `Σ w` and `Σ w²`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WeightSums {
    /// `ln Σ w`.
    pub sum: LogSumExp,
    /// `ln Σ w²`.
    pub squares: LogSumExp,
}

impl WeightSums {
    fn push(&mut self, ln_w: f64) {
        self.sum.push(ln_w);
        self.squares.push(2.0 * ln_w);
    }

    fn merge(&mut self, other: &WeightSums) {
        self.sum.merge(&other.sum);
        self.squares.merge(&other.squares);
    }
}

/// Kac–Rice weights of the Gaussian field: the fraction of critical points that are minima
/// is `E[|det H| 1{H > 0}] / E[|det H|]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldWeights {
    /// Samples drawn (one numerator and one denominator weight each).
    pub samples: u64,
    /// Samples with a non-finite determinant.
    pub diverged: u64,
    /// Numerator weights `|det H| 1{H > 0}` (times `φ(z)/q(z)` when z is importance sampled).
    pub numerator: WeightSums,
    /// Denominator weights `|det H|`.
    pub denominator: WeightSums,
    /// `ln Σ w_num w_den` when both come from the same sample (direct method).
    pub cross: LogSumExp,
    /// `ln Σ |det H| 1{index = k}`: the index law of critical points (direct method).
    pub index: Vec<LogSumExp>,
}

/// The results of independent splitting runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplittingRuns {
    /// `ln Ẑ` of each run summarised: mean and variance.
    pub ln_estimates: MeanVar,
    /// Stages per run.
    pub stages: MeanVar,
    /// Runs that got stuck.
    pub diverged: u64,
}

/// What one chunk of a cell produces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CellAccumulator {
    /// Direct sampling of an unweighted model.
    Index(IndexHistogram),
    /// Gaussian-field weights.
    Field(FieldWeights),
    /// Splitting runs.
    Splitting(SplittingRuns),
}

impl Accumulator for CellAccumulator {
    fn merge(&mut self, later: Self) {
        match (self, later) {
            (CellAccumulator::Index(a), CellAccumulator::Index(b)) => {
                for (x, y) in a.histogram.iter_mut().zip(b.histogram) {
                    *x += y;
                }
                a.diverged += b.diverged;
            }
            (CellAccumulator::Field(a), CellAccumulator::Field(b)) => {
                a.samples += b.samples;
                a.diverged += b.diverged;
                a.numerator.merge(&b.numerator);
                a.denominator.merge(&b.denominator);
                a.cross.merge(&b.cross);
                for (x, y) in a.index.iter_mut().zip(&b.index) {
                    x.merge(y);
                }
            }
            (CellAccumulator::Splitting(a), CellAccumulator::Splitting(b)) => {
                a.ln_estimates.merge(&b.ln_estimates);
                a.stages.merge(&b.stages);
                a.diverged += b.diverged;
            }
            // Chunks of one cell always produce the same variant.
            _ => unreachable!("chunks of one cell produce one accumulator kind"),
        }
    }

    fn replicates(&self) -> u64 {
        match self {
            CellAccumulator::Index(a) => a.histogram.iter().sum::<u64>() + a.diverged,
            CellAccumulator::Field(a) => a.samples,
            CellAccumulator::Splitting(a) => a.ln_estimates.count() + a.diverged,
        }
    }
}

/// Simulates `replicates` samples (or splitting runs) of a cell; a splitting run is long, so
/// the loop over runs ends early when a stop is requested (the engine discards the chunk).
pub fn simulate(
    cell: &Cell,
    settings: &Estimators,
    replicates: u64,
    rng: &mut StreamRng,
    stop: Stop,
) -> CellAccumulator {
    let n = cell.n as usize;
    match (cell.model, cell.method) {
        (Model::GaussianField, method) => {
            CellAccumulator::Field(field_weights(n, method, replicates, rng))
        }
        (Model::Goe, Method::Splitting) => {
            let ensemble = TridiagonalEnsemble::goe(n);
            let splitting = WallSplitting::new(
                &ensemble,
                settings.particles,
                settings.survival,
                settings.sweeps,
            );
            let mut workspace = SplittingWorkspace::default();
            let mut runs = SplittingRuns {
                ln_estimates: MeanVar::default(),
                stages: MeanVar::default(),
                diverged: 0,
            };
            for _ in 0..replicates {
                if stop.requested() {
                    break;
                }
                let run = splitting.run(0.0, rng, &mut workspace);
                if run.ln_probability.is_finite() {
                    runs.ln_estimates.push(run.ln_probability);
                    runs.stages.push(run.stages as f64);
                } else {
                    runs.diverged += 1;
                }
            }
            CellAccumulator::Splitting(runs)
        }
        (model, _) => CellAccumulator::Index(index_histogram(
            model,
            n,
            settings.full_index,
            replicates,
            rng,
        )),
    }
}

fn index_histogram(
    model: Model,
    n: usize,
    full_index: bool,
    replicates: u64,
    rng: &mut StreamRng,
) -> IndexHistogram {
    let mut acc = IndexHistogram {
        histogram: vec![0; n + 1],
        diverged: 0,
    };
    let mut record = |index: Option<usize>| match index {
        Some(k) => acc.histogram[k] += 1,
        None => acc.diverged += 1,
    };
    match model {
        Model::Coin => {
            let coin = CoinHessian::new(n);
            (0..replicates).for_each(|_| record(Some(coin.sample_index(rng))));
        }
        Model::Goe if full_index => {
            // Two interleaved streams: the chunk's own, and one 2^128 draws ahead of it.
            let goe = TridiagonalEnsemble::goe(n);
            let mut ahead = rng.clone();
            ahead.jump();
            for _ in 0..replicates / 2 {
                let (a, b) = goe.negative_count_pair(0.0, rng, &mut ahead);
                record(a);
                record(b);
            }
            if replicates % 2 == 1 {
                record(goe.negative_count(0.0, rng));
            }
        }
        Model::Goe => {
            let goe = TridiagonalEnsemble::goe(n);
            (0..replicates)
                .for_each(|_| record(Some(usize::from(!goe.is_positive_definite(0.0, rng)))));
        }
        Model::GoeDense => {
            let mut goe = DenseWigner::goe(n);
            (0..replicates).for_each(|_| record(goe.sample_index(rng)));
        }
        Model::Wigner { ratio } => {
            let mut wigner = DenseWigner::with_variance_ratio(n, ratio);
            (0..replicates).for_each(|_| record(wigner.sample_index(rng)));
        }
        Model::Wishart { aspect, shift } => {
            let m = ((n as f64 / aspect).round() as usize).max(1);
            let mut wishart = ShiftedWishart::new(n, m, shift);
            (0..replicates).for_each(|_| record(wishart.sample_index(rng)));
        }
        Model::GaussianField => unreachable!("weighted, not counted"),
    }
    acc
}

/// Centre of the importance proposal for z: the edge `2√n` of the semicircle of `W`
/// (off-diagonal variance 1), beyond which `W + zI` is positive definite.
fn field_proposal_centre(n: usize) -> f64 {
    2.0 * (n as f64).sqrt()
}

/// Width of the importance proposal's shifted component.
const FIELD_PROPOSAL_SD: f64 = 1.5;

/// `ln q(z)` for the defensive mixture `q = ½N(0,1) + ½N(2√n, 1.5²)`, which keeps the
/// weights `φ(z)/q(z) ≤ 2` (T. Hesterberg, *Technometrics* 37, 185, 1995).
fn ln_field_proposal(z: f64, centre: f64) -> f64 {
    let ln_prior = ln_standard_normal_density(z);
    let w = (z - centre) / FIELD_PROPOSAL_SD;
    let ln_shifted = ln_standard_normal_density(w) - FIELD_PROPOSAL_SD.ln();
    let m = ln_prior.max(ln_shifted);
    m + ((ln_prior - m).exp() + (ln_shifted - m).exp()).ln() - std::f64::consts::LN_2
}

fn ln_standard_normal_density(x: f64) -> f64 {
    -0.5 * x * x - 0.5 * (2.0 * std::f64::consts::PI).ln()
}

/// Kac–Rice weights of `H = W + zI`, `W` with diagonal N(0,2) and off-diagonal N(0,1),
/// `z ~ N(0,1)` (Cheng & Schwartzman, arXiv:1511.06835; Easther, Guth & Masoumi,
/// arXiv:1612.05224). Direct: one draw gives both weights and the index. Importance: the
/// numerator draws z from the defensive mixture and is reweighted by `φ(z)/q(z)`; the
/// denominator is an independent prior draw.
fn field_weights(n: usize, method: Method, replicates: u64, rng: &mut StreamRng) -> FieldWeights {
    let field = TridiagonalEnsemble::gaussian_field(n);
    let direct = method == Method::Direct;
    let mut acc = FieldWeights {
        samples: 0,
        diverged: 0,
        numerator: WeightSums::default(),
        denominator: WeightSums::default(),
        cross: LogSumExp::default(),
        index: if direct {
            vec![LogSumExp::default(); n + 1]
        } else {
            Vec::new()
        },
    };
    let centre = field_proposal_centre(n);
    for _ in 0..replicates {
        acc.samples += 1;
        let z: f64 = rng.sample(StandardNormal);
        let Some(prior) = field.inertia(z, rng).filter(|i| i.ln_abs_det.is_finite()) else {
            acc.diverged += 1;
            continue;
        };
        acc.denominator.push(prior.ln_abs_det);
        if direct {
            let ln_num = if prior.negative == 0 {
                prior.ln_abs_det
            } else {
                f64::NEG_INFINITY
            };
            acc.numerator.push(ln_num);
            acc.cross.push(ln_num + prior.ln_abs_det);
            acc.index[prior.negative].push(prior.ln_abs_det);
            continue;
        }
        let z = if rng.random::<bool>() {
            rng.sample::<f64, _>(StandardNormal)
        } else {
            centre + FIELD_PROPOSAL_SD * rng.sample::<f64, _>(StandardNormal)
        };
        match field.inertia(z, rng).filter(|i| i.ln_abs_det.is_finite()) {
            Some(tilted) if tilted.negative == 0 => acc.numerator.push(
                ln_standard_normal_density(z) - ln_field_proposal(z, centre) + tilted.ln_abs_det,
            ),
            Some(_) => acc.numerator.push(f64::NEG_INFINITY),
            None => acc.diverged += 1,
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::chunk_stream;

    #[test]
    fn proposal_is_a_normalised_density() {
        let centre = field_proposal_centre(9);
        let h = 1e-3;
        let total: f64 = (-20_000..40_000)
            .map(|i| ln_field_proposal(i as f64 * h, centre).exp() * h)
            .sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
    }

    #[test]
    fn one_dimensional_field_has_half_minima() {
        // n = 1: H ~ N(0, 3), and E[|H| 1{H>0}] / E[|H|] = 1/2 by symmetry.
        for method in [Method::Direct, Method::Importance] {
            let cell = Cell {
                model: Model::GaussianField,
                n: 1,
                method,
            };
            let acc = CellAccumulator::Field(field_weights(
                1,
                method,
                200_000,
                &mut chunk_stream(1, "field", 0, 0),
            ));
            let e = super::super::estimates::estimate(&cell, &acc, true, 0.95, 0.01).unwrap();
            assert!(
                (e.ln_p - 0.5f64.ln()).abs() < 5.0 * e.ln_se,
                "{method:?}: {} ± {}",
                e.ln_p,
                e.ln_se
            );
        }
    }

    #[test]
    fn importance_sampling_agrees_with_direct_weights() {
        for n in [3u64, 5, 8] {
            let estimate = |method, stream| {
                let cell = Cell {
                    model: Model::GaussianField,
                    n,
                    method,
                };
                let acc = CellAccumulator::Field(field_weights(
                    n as usize,
                    method,
                    400_000,
                    &mut chunk_stream(stream, "field", n, 0),
                ));
                super::super::estimates::estimate(&cell, &acc, true, 0.95, 0.01).unwrap()
            };
            let (direct, tilted) = (estimate(Method::Direct, 2), estimate(Method::Importance, 3));
            let sigma = direct.ln_se.hypot(tilted.ln_se);
            assert!(
                (direct.ln_p - tilted.ln_p).abs() < 5.0 * sigma,
                "n = {n}: {} ± {} vs {} ± {}",
                direct.ln_p,
                direct.ln_se,
                tilted.ln_p,
                tilted.ln_se
            );
        }
    }
}
