//! `stuck audit`: every number behind the verdict, on the full data, and the files it writes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::data_file::{load_csv, load_npy};
use super::model_file::{LoadedModel, ModelOptions, load_model};
use super::verdict::{Evidence, PointClass, TAU, advice, classify};
use crate::choice::Choice;
use crate::mc::chunk_stream;
use crate::nets::{
    ChunkedEvaluator, CriticalSearch, INDEX_THRESHOLDS, NewtonStep, RitzPairs, SearchOutcome,
    SearchSettings, ShareBounds, audit_curvature, dense_hessian, index_by_inertia, lanczos,
    layer_gradients, nearest_critical_point, spectral_density,
};
use crate::output::{Axes, OutputDir, Series, line_plot, table_to_csv};
use crate::report::{DataTable, Datum};
use rayon::prelude::*;

/// Largest P for the dense Hessian by default: at P = 4 000 it takes 128 MB; beyond it
/// Lanczos and stochastic Lanczos quadrature on Hessian-vector products take over.
pub const DENSE_LIMIT: usize = 4000;

/// Largest P for the full eigendecomposition (eigenvalues and eigenvectors) by default. It
/// costs ≈ 4P³/3 flops for the tridiagonal reduction alone, which faer runs memory-bound:
/// measured on the project's machine at P = 3 010, 9–10 s for the reduction, 13–14 s with the
/// eigenvectors, while one LBLᵀ factorisation takes 1.2 s. At P = 1 500 the whole
/// decomposition takes under 2 s, so up to there the audit is exact in every number; between
/// this limit and [`DENSE_LIMIT`] the index stays exact (inertia), the extremes come from
/// Lanczos and the gradient shares get guaranteed bounds instead of exact values.
pub const EIGEN_LIMIT: usize = 1500;

/// Lanczos steps for the extreme eigenvalues (converged to 10⁻⁸ λ_max at P = 610 in the tests).
const EXTREME_STEPS: usize = 150;

/// Lanczos steps from the gradient for the bounds on its shares.
const SHARE_STEPS: usize = 200;

/// Examples per chunk of the audit's parallel Hessian-vector products: 1 797 digits make 8
/// chunks, enough to keep 2–8 cores busy, each large enough for its matrix products to run at
/// full speed. Fixed, so the audit's numbers do not depend on the thread count.
const AUDIT_CHUNK: usize = 256;

/// What to audit and where to write.
#[derive(Debug, Clone)]
pub struct AuditRequest {
    /// The `.safetensors` model.
    pub model: PathBuf,
    /// The data: a CSV of features then the label, or a `.npy` array of features.
    pub data: PathBuf,
    /// The `.npy` labels that go with a `.npy` `data`.
    pub labels: Option<PathBuf>,
    /// Activation, loss and weight decay.
    pub options: ModelOptions,
    /// Output folder.
    pub out: PathBuf,
    /// Largest P for the dense Hessian.
    pub dense_limit: usize,
    /// Largest P for the full eigendecomposition.
    pub eigen_limit: usize,
}

/// Per layer: the gradient and the extreme eigenvalues of the layer's diagonal Hessian block.
#[derive(Debug, Clone, Serialize)]
pub struct LayerRow {
    /// Layer number (0 = first).
    pub layer: usize,
    /// Its parameters.
    pub parameters: usize,
    /// `‖g_l‖`.
    pub gradient_norm: f64,
    /// `‖g_l‖/√P_l`.
    pub gradient_rms: f64,
    /// Smallest eigenvalue of the block `H_ll` (NaN without the dense Hessian).
    pub block_lambda_min: f64,
    /// Largest eigenvalue of the block.
    pub block_lambda_max: f64,
}

/// Everything the audit measured and concluded.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// The model file.
    pub model: String,
    /// The data file.
    pub data: String,
    /// Layer widths, input first.
    pub widths: Vec<usize>,
    /// Number of parameters P.
    pub parameters: usize,
    /// Number of examples.
    pub examples: usize,
    /// Hidden activation.
    pub activation: String,
    /// Loss function.
    pub loss_function: String,
    /// λ of the L2 term.
    pub weight_decay: f64,
    /// ε of batch normalisation, if any.
    pub batch_norm: Option<f64>,
    /// Mean loss over all examples (plus the L2 term).
    pub loss: f64,
    /// Fraction of examples classified right.
    pub accuracy: f64,
    /// `‖g‖`.
    pub gradient_norm: f64,
    /// Per layer.
    pub layers: Vec<LayerRow>,
    /// `dense` (full eigendecomposition), `inertia` (dense Hessian, exact index, Lanczos
    /// extremes) or `lanczos` (Hessian-vector products only).
    pub spectrum_method: String,
    /// Smallest Hessian eigenvalue.
    pub lambda_min: f64,
    /// Largest Hessian eigenvalue.
    pub lambda_max: f64,
    /// Eigenvalues below `−τ λ_max` at each of [`INDEX_THRESHOLDS`] (exact up to the dense
    /// limit, estimated by SLQ beyond it).
    pub index: Vec<f64>,
    /// Share of `‖g‖²` in the top-k eigenspace (k = classes): exact up to the eigen limit,
    /// guaranteed bounds beyond it.
    pub share_top: ShareBounds,
    /// Share of `‖g‖²` in `|λ| ≤ τ λ_max`.
    pub share_near_null: ShareBounds,
    /// Share of `‖g‖²` in `λ < −τ λ_max`.
    pub share_negative: ShareBounds,
    /// How the search for the nearest critical point ended.
    pub search_outcome: String,
    /// Its Newton iterations.
    pub search_iterations: usize,
    /// Distance moved.
    pub search_distance: f64,
    /// Loss where it stopped.
    pub search_loss: f64,
    /// Gradient norm where it stopped.
    pub search_gradient_norm: f64,
    /// The answer.
    pub class: PointClass,
    /// The answer's name.
    pub verdict: String,
    /// What the suite measured about it, and what to try.
    pub advice: String,
    /// Wall time of the audit.
    pub seconds: f64,
}

/// Runs the audit and writes `audit.csv`, `audit-layers.csv`, `audit-spectrum.csv`,
/// `audit.json` and `audit-spectrum.png` into `request.out`; returns the report and the files.
///
/// # Errors
/// A bad model, data or output folder (one line, the user's to fix), or a failed
/// eigendecomposition.
pub fn run_audit(request: &AuditRequest) -> Result<(AuditReport, Vec<PathBuf>), AuditError> {
    let started = Instant::now();
    let LoadedModel { net, theta } =
        load_model(&request.model, &request.options).map_err(AuditError::Input)?;
    let layers = net.layers();
    let (features, classes) = (layers[0].inputs, layers[layers.len() - 1].outputs);
    let npy = request.data.extension().is_some_and(|e| e == "npy");
    let data = match (&request.labels, npy) {
        (Some(labels), true) => load_npy(&request.data, labels, features, classes),
        (None, false) => load_csv(&request.data, features, classes),
        (None, true) => Err(format!(
            "{}: a .npy --data holds the features only; give the labels with --labels LABELS.npy",
            request.data.display()
        )),
        (Some(_), false) => Err(format!(
            "--labels goes with a .npy --data; {} is read as a CSV with the label in its last column",
            request.data.display()
        )),
    }
    .map_err(AuditError::Input)?;
    let out = OutputDir::open(&request.out, true).map_err(|e| AuditError::Input(e.to_string()))?;
    let p = net.parameters();
    let mut evaluator = ChunkedEvaluator::new(&net, &data, Some(AUDIT_CHUNK));
    let mut gradient = vec![0.0; p];
    let loss = evaluator.loss_and_gradient(&net, &theta, &mut gradient);
    let accuracy = net.accuracy(&theta, &data, &mut net.workspace(data.examples()), None);
    let gradient_norm = gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
    if !loss.is_finite() || !gradient_norm.is_finite() {
        return Err(AuditError::Input(format!(
            "the loss or its gradient is not finite at these weights on these data (loss {loss})"
        )));
    }
    let stage = |what: &str| eprintln!("audit: {what} ({:.1} s)", started.elapsed().as_secs_f64());
    stage(&format!(
        "P = {p}, {} examples; the Hessian's spectrum",
        data.examples()
    ));
    let mut hvp = |x: &[f64], y: &mut [f64]| evaluator.hessian_vector(&net, &theta, x, y);
    let curvature = if p <= request.eigen_limit.min(request.dense_limit) {
        dense_curvature(&net, &theta, &data, &gradient, &mut hvp)?
    } else {
        let hessian = (p <= request.dense_limit).then(|| dense_hessian(&net, &theta, &data));
        estimated_curvature(&net, hessian.as_deref(), &gradient, data.classes, &mut hvp)
    };
    stage("searching for the nearest critical point (Newton-MR, 30 steps of 50 MINRES iterations)");
    let search = nearest_critical_point(
        &net,
        &data,
        &theta,
        curvature.lambda_max.abs().max(f64::MIN_POSITIVE),
        &SearchSettings {
            iterations: 30,
            step: NewtonStep::Minres(50),
            tolerance: (1e-3 * gradient_norm).max(1e-9),
            flatness: 1e-3,
            examples_per_chunk: Some(AUDIT_CHUNK),
        },
    );
    let index_at_tau = curvature.index[2].round() as usize;
    let evidence = Evidence {
        search_converged: search.outcome == SearchOutcome::Critical,
        loss_change: (search.losses.1 - loss).abs() / loss.abs().max(1e-12),
        index: if curvature.lambda_min < -TAU * curvature.lambda_max {
            index_at_tau.max(1)
        } else {
            0
        },
        near_null_share: curvature.share_near_null.middle(),
    };
    let class = classify(&evidence);
    let layer_rows = layer_gradients(&net, &gradient)
        .iter()
        .zip(layers)
        .enumerate()
        .map(|(l, (g, slices))| LayerRow {
            layer: l,
            parameters: slices.biases.end - slices.weights.start,
            gradient_norm: g.norm,
            gradient_rms: g.rms,
            block_lambda_min: curvature.blocks.get(l).map_or(f64::NAN, |b| b.0),
            block_lambda_max: curvature.blocks.get(l).map_or(f64::NAN, |b| b.1),
        })
        .collect();
    let mut widths: Vec<usize> = layers.iter().map(|l| l.inputs).collect();
    widths.push(classes);
    let report = AuditReport {
        model: request.model.display().to_string(),
        data: request.data.display().to_string(),
        widths,
        parameters: p,
        examples: data.examples(),
        activation: net.activation().name().into(),
        loss_function: net.loss_function().name().into(),
        weight_decay: net.weight_decay(),
        batch_norm: net.batch_norm(),
        loss,
        accuracy,
        gradient_norm,
        layers: layer_rows,
        spectrum_method: curvature.method.into(),
        lambda_min: curvature.lambda_min,
        lambda_max: curvature.lambda_max,
        index: curvature.index.clone(),
        share_top: curvature.share_top,
        share_near_null: curvature.share_near_null,
        share_negative: curvature.share_negative,
        search_outcome: search.outcome.name().into(),
        search_iterations: search.iterations,
        search_distance: search.distance,
        search_loss: search.losses.1,
        search_gradient_norm: search.gradient_norms.1,
        class,
        verdict: class.name(),
        advice: advice(class, curvature.lambda_min, curvature.lambda_max),
        seconds: started.elapsed().as_secs_f64(),
    };
    let written = write_outputs(out.path(), &report, &curvature, &search)?;
    Ok((report, written))
}

/// Why an audit failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The model, the data or the output folder: the user's to fix.
    #[error("{0}")]
    Input(String),
    /// A computation that should not fail did.
    #[error("{0}")]
    Numerical(String),
}

/// The curvature at θ, dense or estimated.
struct Curvature {
    method: &'static str,
    lambda_min: f64,
    lambda_max: f64,
    index: Vec<f64>,
    share_top: ShareBounds,
    share_near_null: ShareBounds,
    share_negative: ShareBounds,
    /// Per layer: (λ_min, λ_max) of its diagonal block (empty beyond the dense limit).
    blocks: Vec<(f64, f64)>,
    /// Eigenvalues (dense) or Ritz values with their SLQ weights.
    spectrum: Vec<(f64, f64)>,
}

fn dense_curvature(
    net: &crate::nets::Mlp,
    theta: &[f64],
    data: &crate::nets::Dataset,
    gradient: &[f64],
    hvp: impl FnMut(&[f64], &mut [f64]),
) -> Result<Curvature, AuditError> {
    let p = theta.len();
    let hessian = dense_hessian(net, theta, data);
    let classes = data.classes;
    let audit = audit_curvature(&hessian, p, gradient, classes, TAU).ok_or_else(|| {
        AuditError::Numerical("the Hessian's eigendecomposition did not converge".into())
    })?;
    let spectrum = &audit.spectrum;
    let top = spectrum.max();
    Ok(Curvature {
        method: "dense",
        lambda_min: spectrum.min(),
        lambda_max: top,
        index: INDEX_THRESHOLDS
            .iter()
            .map(|t| spectrum.index(t * top.abs()) as f64)
            .collect(),
        share_top: ShareBounds::exact(audit.shares.top),
        share_near_null: ShareBounds::exact(audit.shares.near_null),
        share_negative: ShareBounds::exact(audit.shares.negative),
        blocks: layer_blocks(net, hvp),
        spectrum: spectrum.eigenvalues.iter().map(|&l| (l, 1.0)).collect(),
    })
}

/// Each layer's diagonal Hessian block `H_ll`: its extreme eigenvalues from [`EXTREME_STEPS`]
/// Lanczos steps on Hessian-vector products along directions that vanish outside the layer
/// (`H_ll x` is the layer's part of `H (0, …, x, …, 0)`), so no block is ever formed.
fn layer_blocks(
    net: &crate::nets::Mlp,
    mut hvp: impl FnMut(&[f64], &mut [f64]),
) -> Vec<(f64, f64)> {
    let p = net.parameters();
    let (mut full, mut product) = (vec![0.0; p], vec![0.0; p]);
    net.layers()
        .iter()
        .map(|l| {
            let range = l.weights.start..l.biases.end;
            let apply = |x: &[f64], y: &mut [f64]| {
                full[range.clone()].copy_from_slice(x);
                hvp(&full, &mut product);
                y.copy_from_slice(&product[range.clone()]);
            };
            let start: Vec<f64> = (0..range.len())
                .map(|i| 1.0 + (i % 7) as f64 / 7.0)
                .collect();
            let ritz = lanczos(apply, &start, range.len().min(EXTREME_STEPS));
            (ritz.values[0], ritz.values[ritz.values.len() - 1])
        })
        .collect()
}

/// The shares of `‖g‖²` with guaranteed bounds, from one Lanczos run of [`SHARE_STEPS`] steps
/// started at g: its Gauss rule is the quadrature of g's spectral measure
/// `μ = Σᵢ (uᵢᵀg)² δ_{λᵢ} / ‖g‖²`, and [`RitzPairs::mass_below_bounds`] pins each share between
/// the Chebyshev–Markov–Stieltjes bounds. Negative: `μ(λ < −τλ_max)`; near-null:
/// `μ(|λ| ≤ τλ_max)`; top-k: `μ(λ ≥ λ_(k))` with `λ_(k)` the k-th largest Ritz value of the
/// extremes run (the outliers converge first; a not yet converged `λ_(k)` sits below the
/// true one and can only widen the top share's upper side).
fn bounded_shares(
    apply: impl FnMut(&[f64], &mut [f64]),
    gradient: &[f64],
    extremes: &RitzPairs,
    top_k: usize,
) -> [ShareBounds; 3] {
    let lambda_max = extremes.values.last().copied().unwrap_or(0.0);
    let threshold = TAU * lambda_max.abs();
    let measure = lanczos(apply, gradient, SHARE_STEPS.min(gradient.len()));
    let negative = measure.mass_below_bounds(-threshold);
    let up_to_threshold = measure.mass_below_bounds(threshold.next_up());
    let near_null = ShareBounds {
        low: (up_to_threshold.low - negative.high).max(0.0),
        high: (up_to_threshold.high - negative.low).min(1.0),
    };
    let kth = extremes
        .values
        .len()
        .checked_sub(top_k)
        .map_or(f64::NEG_INFINITY, |i| extremes.values[i]);
    let below_top = measure.mass_below_bounds(kth);
    let top = ShareBounds {
        low: 1.0 - below_top.high,
        high: 1.0 - below_top.low,
    };
    [top, near_null, negative]
}

/// Beyond the eigen limit, on Hessian-vector products: the extremes from [`EXTREME_STEPS`]
/// Lanczos steps (tested against the dense spectrum to 10⁻⁸ λ_max at P = 610), the gradient
/// shares with guaranteed bounds ([`bounded_shares`]) and the layers' blocks
/// ([`layer_blocks`]). The index at the four thresholds is exact from the dense Hessian's
/// LBLᵀ inertia when `hessian` is given (up to the dense limit; one factorisation per
/// threshold, in parallel) and the spectrum written is then the extremes run's Ritz values and
/// weights (one probe of stochastic Lanczos quadrature: a picture of the density, not the
/// source of any count); beyond the dense limit the index is estimated by stochastic Lanczos
/// quadrature with 16 probes of 60 steps (tested within 5 standard errors of the dense count),
/// whose pooled Ritz values are the spectrum written.
fn estimated_curvature(
    net: &crate::nets::Mlp,
    hessian: Option<&[f64]>,
    gradient: &[f64],
    classes: usize,
    mut hvp: impl FnMut(&[f64], &mut [f64]),
) -> Curvature {
    let p = gradient.len();
    let mut rng = chunk_stream(1, "audit-lanczos", 0, 0);
    let start: Vec<f64> = (0..p)
        .map(|_| rand::RngExt::sample::<f64, _>(&mut rng, rand_distr::StandardNormal))
        .collect();
    let extremes = lanczos(&mut hvp, &start, EXTREME_STEPS.min(p));
    let (lambda_min, lambda_max) = (
        extremes.values[0],
        extremes.values[extremes.values.len() - 1],
    );
    let (method, index, spectrum) = match hessian {
        Some(hessian) => (
            "inertia",
            INDEX_THRESHOLDS
                .par_iter()
                .map(|t| index_by_inertia(hessian, p, t * lambda_max.abs()) as f64)
                .collect(),
            extremes
                .values
                .iter()
                .copied()
                .zip(extremes.weights.iter().copied())
                .collect(),
        ),
        None => {
            let density = spectral_density(&mut hvp, p, 16, 60.min(p), &mut rng);
            let mut pairs: Vec<(f64, f64)> = density
                .values
                .iter()
                .copied()
                .zip(density.weights.iter().copied())
                .collect();
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            (
                "lanczos",
                INDEX_THRESHOLDS
                    .iter()
                    .map(|t| density.fraction_below(-t * lambda_max.abs()) * p as f64)
                    .collect(),
                pairs,
            )
        }
    };
    let [share_top, share_near_null, share_negative] =
        bounded_shares(&mut hvp, gradient, &extremes, classes);
    Curvature {
        method,
        lambda_min,
        lambda_max,
        index,
        share_top,
        share_near_null,
        share_negative,
        blocks: layer_blocks(net, hvp),
        spectrum,
    }
}

fn write_outputs(
    dir: &Path,
    report: &AuditReport,
    curvature: &Curvature,
    search: &CriticalSearch,
) -> Result<Vec<PathBuf>, AuditError> {
    let mut written = Vec::new();
    let mut write = |name: &str, bytes: Vec<u8>| -> Result<(), AuditError> {
        let path = dir.join(name);
        crate::atomic_file::write_atomically(&path, &bytes)
            .map_err(|e| AuditError::Input(format!("cannot write {}: {e}", path.display())))?;
        written.push(path);
        Ok(())
    };
    let csv = |table: &DataTable| {
        table_to_csv(table).map_err(|e| AuditError::Numerical(format!("csv: {e}")))
    };
    let mut summary = DataTable::new(
        "",
        &[
            "parameters",
            "examples",
            "loss",
            "accuracy",
            "gradient_norm",
            "spectrum_method",
            "lambda_min",
            "lambda_max",
            "index_tau_0",
            "index_tau_1e-4",
            "index_tau_1e-3",
            "index_tau_1e-2",
            "share_top",
            "share_top_low",
            "share_top_high",
            "share_near_null",
            "share_near_null_low",
            "share_near_null_high",
            "share_negative",
            "share_negative_low",
            "share_negative_high",
            "search_outcome",
            "search_iterations",
            "search_distance",
            "search_loss",
            "search_gradient_norm",
            "verdict",
        ],
    );
    let mut row: Vec<Datum> = vec![
        (report.parameters as u64).into(),
        (report.examples as u64).into(),
        report.loss.into(),
        report.accuracy.into(),
        report.gradient_norm.into(),
        report.spectrum_method.clone().into(),
        report.lambda_min.into(),
        report.lambda_max.into(),
    ];
    row.extend(report.index.iter().map(|&i| Datum::from(i)));
    for share in [
        &report.share_top,
        &report.share_near_null,
        &report.share_negative,
    ] {
        row.extend([share.middle().into(), share.low.into(), share.high.into()]);
    }
    row.extend([
        report.search_outcome.clone().into(),
        (report.search_iterations as u64).into(),
        report.search_distance.into(),
        report.search_loss.into(),
        report.search_gradient_norm.into(),
        report.verdict.clone().into(),
    ]);
    summary.push(row);
    write("audit.csv", csv(&summary)?)?;
    let mut layers = DataTable::new(
        "layers",
        &[
            "layer",
            "parameters",
            "gradient_norm",
            "gradient_rms",
            "block_lambda_min",
            "block_lambda_max",
        ],
    );
    for l in &report.layers {
        layers.push(vec![
            (l.layer as u64).into(),
            (l.parameters as u64).into(),
            l.gradient_norm.into(),
            l.gradient_rms.into(),
            l.block_lambda_min.into(),
            l.block_lambda_max.into(),
        ]);
    }
    write("audit-layers.csv", csv(&layers)?)?;
    let mut spectrum = DataTable::new("spectrum", &["eigenvalue", "weight"]);
    for &(value, weight) in &curvature.spectrum {
        spectrum.push(vec![value.into(), weight.into()]);
    }
    write("audit-spectrum.csv", csv(&spectrum)?)?;
    let json =
        serde_json::json!({ "report": report, "search_gradient_history": search.gradient_history });
    let text = serde_json::to_vec_pretty(&json)
        .map_err(|e| AuditError::Numerical(format!("json: {e}")))?;
    write("audit.json", text)?;
    // Signed log scale: sign(λ)·log10(1 + |λ|/(10⁻⁶ λ_max)), so both signs and many decades
    // show.
    let unit = 1e-6 * curvature.lambda_max.abs().max(f64::MIN_POSITIVE);
    let points: Vec<(f64, f64)> = curvature
        .spectrum
        .iter()
        .enumerate()
        .map(|(k, &(l, _))| (k as f64, l.signum() * (1.0 + l.abs() / unit).log10()))
        .collect();
    let plot = dir.join("audit-spectrum.png");
    line_plot(
        &plot,
        &format!(
            "Hessian spectrum ({}): {}",
            curvature.method, report.verdict
        ),
        match curvature.method {
            "dense" => "eigenvalue rank",
            "inertia" => "Ritz value rank (one Lanczos run)",
            _ => "Ritz value rank (all probes)",
        },
        "sign(λ)·log10(1 + |λ|/(1e-6 λ_max))",
        &[Series {
            label: "eigenvalues".into(),
            points,
            lines: false,
            intervals: Vec::new(),
            reference: false,
            look: None,
        }],
        Axes::default(),
    )
    .map_err(|e| AuditError::Input(e.to_string()))?;
    written.push(plot.with_extension("svg"));
    written.push(plot);
    Ok(written)
}
