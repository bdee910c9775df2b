//! `stuck audit` on models written from Rust: the file's Hessian is the network layer's, a
//! constructed saddle is found with its index, a convex problem's minimum is a minimum, and
//! malformed inputs get one line and exit code 2.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{assert_one_line_error, stuck};
use safetensors::{Dtype, tensor::TensorView};
use stuck::audit::{
    AuditRequest, ModelOptions, PointClass, TAU, load_model, run_audit, save_model,
};
use stuck::mc::chunk_stream;
use stuck::nets::{
    Activation, Dataset, Loss, Mlp, NewtonStep, SearchOutcome, SearchSettings, Spectrum,
    dense_hessian, nearest_critical_point,
};

/// Standardised iris, all 150 examples (the split shuffles; no test set).
fn iris() -> Dataset {
    Dataset::iris()
        .split(0.0, &mut chunk_stream(1, "audit-test", 0, 0))
        .train
}

fn write_csv(path: &Path, data: &Dataset) {
    let mut text = String::from("f1,f2,f3,f4,label\n");
    for (k, y) in data.labels.iter().enumerate() {
        let row = &data.inputs[k * data.features..(k + 1) * data.features];
        let fields: Vec<String> = row.iter().map(|v| format!("{v:?}")).collect();
        text += &format!("{},{y}\n", fields.join(","));
    }
    std::fs::write(path, text).unwrap();
}

fn options(loss: Loss, weight_decay: f64) -> ModelOptions {
    ModelOptions {
        activation: None,
        loss,
        weight_decay,
    }
}

fn audit(dir: &Path, net: &Mlp, theta: &[f64], data: &Dataset) -> stuck::audit::AuditReport {
    audit_with_limit(dir, net, theta, data, 4000, 4000)
}

fn audit_with_limit(
    dir: &Path,
    net: &Mlp,
    theta: &[f64],
    data: &Dataset,
    dense_limit: usize,
    eigen_limit: usize,
) -> stuck::audit::AuditReport {
    let (model, csv) = (dir.join("model.safetensors"), dir.join("data.csv"));
    save_model(&model, net, theta).unwrap();
    write_csv(&csv, data);
    let request = AuditRequest {
        model,
        data: csv,
        labels: None,
        options: options(net.loss_function(), net.weight_decay()),
        out: dir.join("out"),
        dense_limit,
        eigen_limit,
    };
    run_audit(&request).unwrap().0
}

/// A model written to a file and read back has the same parameters and network (with and
/// without batch normalisation), so the audit's spectrum is the network layer's: λ_min,
/// λ_max and the index at τ = 10⁻³ equal the direct computation's.
#[test]
fn the_files_hessian_is_the_network_layers() {
    let data = iris();
    let dir = tempfile::tempdir().unwrap();
    let plain = Mlp::new(&[4, 5, 3], Activation::Tanh, Loss::CrossEntropy, 1e-3);
    for net in [plain.clone(), plain.with_batch_norm(1e-5)] {
        let theta = net.initialise(1.0, &mut chunk_stream(2, "audit-test", 0, 0));
        let path = dir.path().join("round-trip.safetensors");
        save_model(&path, &net, &theta).unwrap();
        let back = load_model(&path, &options(Loss::CrossEntropy, 1e-3)).unwrap();
        assert_eq!((&back.net, &back.theta), (&net, &theta));
        let report = audit(dir.path(), &net, &theta, &data);
        let p = theta.len();
        let direct = Spectrum::of(&dense_hessian(&net, &theta, &data), p).unwrap();
        assert_eq!(report.lambda_min, direct.min());
        assert_eq!(report.lambda_max, direct.max());
        assert_eq!(report.index[2], direct.index(TAU * direct.max()) as f64);
    }
}

/// PyTorch's `[out, in]` row-major weights in `F32` land column-major in the flat vector.
#[test]
fn torch_layout_in_f32_is_transposed_into_place() {
    let f32_bytes = |v: &[f32]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
    let weight = f32_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let bias = f32_bytes(&[0.5, -0.5, 0.25]);
    let views = vec![
        (
            "0.weight",
            TensorView::new(Dtype::F32, vec![3, 2], &weight).unwrap(),
        ),
        (
            "0.bias",
            TensorView::new(Dtype::F32, vec![3], &bias).unwrap(),
        ),
    ];
    let bytes = safetensors::serialize(views, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("linear.safetensors");
    std::fs::write(&path, bytes).unwrap();
    let model = load_model(&path, &options(Loss::CrossEntropy, 0.0)).unwrap();
    assert_eq!(model.net.parameters(), 9);
    assert_eq!(
        model.theta,
        vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0, 0.5, -0.5, 0.25]
    );
}

/// At W₁ = 0, b₁ = 0, W₂ = 0 and b₂ = ln(class frequencies) a tanh network under
/// cross-entropy is at a critical point (every hidden output is 0 and the softmax equals the
/// class frequencies, so every gradient term vanishes). Its Hessian, to second order a product
/// of two linear maps, is block-diagonal: [[0, M], [Mᵀ, 0]] over ((W₁, b₁), W₂) with
/// M = I_H ⊗ G, where G = Σ_k δ_k (x_k, 1)ᵀ is the C × (D + 1) gradient of a linear model at
/// zero weights (δ_k = (p − e_{y_k})/N), and diag(p) − ppᵀ on b₂. Its eigenvalues are ±σ_i(G),
/// each H times, and those of diag(p) − ppᵀ: the index at τ is H times the number of singular
/// values of G above τλ_max — computed here independently, by nalgebra's SVD.
#[test]
fn a_constructed_saddle_is_a_saddle_of_the_right_index() {
    let data = iris();
    let (d, h, c) = (4, 3, 3);
    let net = Mlp::new(&[d, h, c], Activation::Tanh, Loss::CrossEntropy, 0.0);
    let mut theta = vec![0.0; net.parameters()];
    let n = data.examples() as f64;
    let mut frequency = vec![0.0; c];
    for &y in &data.labels {
        frequency[y] += 1.0 / n;
    }
    let output_bias = net.layers()[1].biases.clone();
    for (b, f) in theta[output_bias].iter_mut().zip(&frequency) {
        *b = f.ln();
    }
    let mut g = nalgebra::DMatrix::<f64>::zeros(c, d + 1);
    for (k, &y) in data.labels.iter().enumerate() {
        for class in 0..c {
            let delta = (frequency[class] - f64::from(u8::from(class == y))) / n;
            for i in 0..d {
                g[(class, i)] += delta * data.inputs[k * d + i];
            }
            g[(class, d)] += delta;
        }
    }
    let sigma = g.singular_values();
    let covariance = nalgebra::DMatrix::from_fn(c, c, |i, j| {
        f64::from(u8::from(i == j)) * frequency[i] - frequency[i] * frequency[j]
    });
    let top_covariance = covariance.symmetric_eigenvalues().max();
    let lambda_max = sigma.max().max(top_covariance);
    let expected = h * sigma.iter().filter(|&&s| s > TAU * lambda_max).count();
    assert!(
        expected > 0,
        "the construction must have downhill directions"
    );
    let dir = tempfile::tempdir().unwrap();
    let report = audit(dir.path(), &net, &theta, &data);
    assert!((report.lambda_max - lambda_max).abs() < 1e-12 * lambda_max);
    assert_eq!(report.class, PointClass::Saddle { index: expected });
}

/// Logistic regression with weight decay is convex (strictly, except along the one direction
/// that shifts every output bias alike, which softmax does not see and weight decay does not
/// act on: an exactly flat direction): trained to convergence by damped Newton steps, its end
/// is a minimum, and the audit says so.
#[test]
fn a_convex_problems_minimum_is_a_minimum() {
    let data = iris();
    let net = Mlp::new(&[4, 3], Activation::Tanh, Loss::CrossEntropy, 1e-2);
    let start = vec![0.0; net.parameters()];
    let settings = SearchSettings {
        iterations: 100,
        step: NewtonStep::Exact,
        tolerance: 1e-12,
        flatness: 0.0,
        examples_per_chunk: None,
    };
    let search = nearest_critical_point(&net, &data, &start, 1.0, &settings);
    assert_eq!(search.outcome, SearchOutcome::Critical);
    let dir = tempfile::tempdir().unwrap();
    let report = audit(dir.path(), &net, &search.theta, &data);
    assert_eq!(report.class, PointClass::Minimum, "{report:?}");
    assert!(
        report.lambda_min > -1e-12 * report.lambda_max,
        "{}",
        report.lambda_min
    );
}

/// Runs `stuck audit` and expects exit code 2 with one line on stderr containing `needle`.
fn rejects(model: &Path, data: &Path, extra: &[&str], needle: &str) {
    let out = model.with_file_name("out");
    let output = stuck()
        .arg("audit")
        .arg("--model")
        .arg(model)
        .arg("--data")
        .arg(data)
        .args(extra)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_one_line_error(&output, &format!("{model:?}"), &[needle]);
    assert!(!out.exists(), "a failed audit left {out:?}");
}

fn write_tensors(path: &Path, tensors: &[(&str, Vec<usize>, Vec<f64>)]) {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(n, s, v)| {
            (
                n.to_string(),
                s.clone(),
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            )
        })
        .collect();
    let views: Vec<(String, TensorView<'_>)> = bytes
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                TensorView::new(Dtype::F64, s.clone(), b).unwrap(),
            )
        })
        .collect();
    let metadata = HashMap::from([("activation".to_string(), "tanh".to_string())]);
    std::fs::write(path, safetensors::serialize(views, Some(metadata)).unwrap()).unwrap();
}

/// Truncated files, wrong shapes, unsupported layers, NaN weights, a missing activation and
/// data that do not fit the model each give one clear line and exit code 2.
#[test]
fn malformed_models_and_data_are_refused_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = iris();
    let csv = dir.path().join("data.csv");
    write_csv(&csv, &data);
    let good = dir.path().join("good.safetensors");
    let net = Mlp::new(&[4, 5, 3], Activation::Tanh, Loss::CrossEntropy, 0.0);
    let theta = net.initialise(1.0, &mut chunk_stream(3, "audit-test", 0, 0));
    save_model(&good, &net, &theta).unwrap();

    let truncated = dir.path().join("truncated.safetensors");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    rejects(&truncated, &csv, &[], "not a valid safetensors file");

    let wrong_bias = dir.path().join("wrong-bias.safetensors");
    write_tensors(
        &wrong_bias,
        &[
            ("0.weight", vec![3, 4], vec![0.1; 12]),
            ("0.bias", vec![2], vec![0.0; 2]),
        ],
    );
    rejects(&wrong_bias, &csv, &[], "expected [3]");

    let unchained = dir.path().join("unchained.safetensors");
    write_tensors(
        &unchained,
        &[
            ("0.weight", vec![5, 4], vec![0.1; 20]),
            ("0.bias", vec![5], vec![0.0; 5]),
            ("2.weight", vec![3, 6], vec![0.1; 18]),
            ("2.bias", vec![3], vec![0.0; 3]),
        ],
    );
    rejects(
        &unchained,
        &csv,
        &[],
        "has 6 inputs but the layer before it has 5",
    );

    let convolution = dir.path().join("conv.safetensors");
    write_tensors(
        &convolution,
        &[
            ("0.weight", vec![3, 4, 1], vec![0.1; 12]),
            ("0.bias", vec![3], vec![0.0; 3]),
        ],
    );
    rejects(&convolution, &csv, &[], "only Linear");

    let foreign = dir.path().join("foreign.safetensors");
    write_tensors(&foreign, &[("encoder.weight", vec![3, 4], vec![0.1; 12])]);
    rejects(&foreign, &csv, &[], "<module>.<field>");

    let nan = dir.path().join("nan.safetensors");
    let mut weights = vec![0.1; 12];
    weights[7] = f64::NAN;
    write_tensors(
        &nan,
        &[
            ("0.weight", vec![3, 4], weights),
            ("0.bias", vec![3], vec![0.0; 3]),
        ],
    );
    rejects(&nan, &csv, &[], "non-finite value");

    let bad_data = dir.path().join("bad.csv");
    std::fs::write(&bad_data, "1,2,3,0\n").unwrap();
    rejects(&good, &bad_data, &[], "expected 4 features");
    std::fs::write(&bad_data, "1,2,nan,4,0\n").unwrap();
    rejects(&good, &bad_data, &[], "not a finite number");
    std::fs::write(&bad_data, "1,2,3,4,7\n").unwrap();
    rejects(&good, &bad_data, &[], "not a class");
    std::fs::write(&bad_data, "").unwrap();
    rejects(&good, &bad_data, &[], "no examples");
    rejects(&good, &dir.path().join("missing.csv"), &[], "cannot read");
    rejects(&good, &csv, &["--activation", "sigmoid"], "not one of");
}

/// The command line end to end: the verdict and the files.
#[test]
fn the_command_prints_a_verdict_and_writes_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = iris();
    let csv = dir.path().join("data.csv");
    write_csv(&csv, &data);
    let model = dir.path().join("model.safetensors");
    let net = Mlp::new(&[4, 5, 3], Activation::Tanh, Loss::CrossEntropy, 0.0);
    let theta = net.initialise(1.0, &mut chunk_stream(4, "audit-test", 0, 0));
    save_model(&model, &net, &theta).unwrap();
    let out = dir.path().join("out");
    let output = stuck()
        .args(["audit", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&csv)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("verdict"), "{stdout}");
    for file in [
        "audit.csv",
        "audit-layers.csv",
        "audit-spectrum.csv",
        "audit.json",
        "audit-spectrum.png",
    ] {
        assert!(out.join(file).exists(), "{file}");
    }
}

/// A NumPy `.npy` file (format 1.0, C order, little-endian) of `descr` values.
fn write_npy(path: &Path, descr: &str, shape: &[usize], bytes: &[u8]) {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = if shape.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut file = b"\x93NUMPY\x01\x00".to_vec();
    file.extend((header.len() as u16).to_le_bytes());
    file.extend(header.as_bytes());
    file.extend(bytes);
    std::fs::write(path, file).unwrap();
}

/// The same data as `.npy` arrays (float32 features, int64 labels) give the audit of the CSV
/// (to float32 rounding of the features), and mismatched arrays are refused.
#[test]
fn numpy_arrays_are_read_like_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let data = iris();
    let x: Vec<u8> = data
        .inputs
        .iter()
        .flat_map(|v| (*v as f32).to_le_bytes())
        .collect();
    let y: Vec<u8> = data
        .labels
        .iter()
        .flat_map(|&l| (l as i64).to_le_bytes())
        .collect();
    let (features, labels) = (dir.path().join("x.npy"), dir.path().join("y.npy"));
    write_npy(&features, "<f4", &[150, 4], &x);
    write_npy(&labels, "<i8", &[150], &y);
    let loaded = stuck::audit::load_npy(&features, &labels, 4, 3).unwrap();
    assert_eq!(loaded.labels, data.labels);
    for (a, b) in loaded.inputs.iter().zip(&data.inputs) {
        assert_eq!(*a, f64::from(*b as f32));
    }
    let model = dir.path().join("model.safetensors");
    let net = Mlp::new(&[4, 5, 3], Activation::Tanh, Loss::CrossEntropy, 0.0);
    let theta = net.initialise(1.0, &mut chunk_stream(5, "audit-test", 0, 0));
    save_model(&model, &net, &theta).unwrap();
    let output = stuck()
        .args(["audit", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&features)
        .arg("--labels")
        .arg(&labels)
        .arg("--out")
        .arg(dir.path().join("npy-out"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    write_npy(&labels, "<i8", &[149], &y[..149 * 8]);
    rejects(
        &model,
        &features,
        &["--labels", labels.to_str().unwrap()],
        "one label per row",
    );
    rejects(&model, &features, &[], "--labels");
    write_npy(&labels, "<f8", &[150], &x[..150 * 8]);
    rejects(
        &model,
        &features,
        &["--labels", labels.to_str().unwrap()],
        "labels must be integers",
    );
}

/// Beyond the dense limit the extremes come from Lanczos and the index from stochastic Lanczos
/// quadrature: on a network small enough for both (P = 43, so Lanczos runs to the full
/// Krylov space) the extremes equal the dense ones to 10⁻⁸ λ_max, and the estimated index at
/// τ = 10⁻³ agrees with the dense count k within 5 standard errors. With the full Krylov
/// space the quadrature is exact per probe, so the error is the probes' own: for a probe
/// uniform on the sphere the share of an eigenspace of dimension k is Beta(k/2, (P − k)/2),
/// of variance 2f(1 − f)/(P + 2) with f = k/P; the mean of 16 probes, times P, has standard
/// error P·√(2f(1 − f)/(16(P + 2))). Between the eigen limit and the dense limit the index is
/// the exact inertia count. In both, the gradient shares' bounds hold the exact shares and
/// the layers' blocks (Lanczos on Hessian-vector products) have the dense blocks' extremes.
#[test]
fn beyond_the_eigen_and_dense_limits_the_estimates_agree_with_the_dense_spectrum() {
    let data = iris();
    let net = Mlp::new(&[4, 5, 3], Activation::Tanh, Loss::CrossEntropy, 1e-3);
    let theta = net.initialise(1.0, &mut chunk_stream(6, "audit-test", 0, 0));
    let dir = tempfile::tempdir().unwrap();
    let dense = audit(dir.path(), &net, &theta, &data);
    let inertia = audit_with_limit(dir.path(), &net, &theta, &data, 4000, 10);
    let estimated = audit_with_limit(dir.path(), &net, &theta, &data, 10, 10);
    assert_eq!(dense.spectrum_method, "dense");
    assert_eq!(inertia.spectrum_method, "inertia");
    assert_eq!(estimated.spectrum_method, "lanczos");
    let scale = dense.lambda_max;
    for other in [&inertia, &estimated] {
        assert!((other.lambda_max - dense.lambda_max).abs() < 1e-8 * scale);
        assert!((other.lambda_min - dense.lambda_min).abs() < 1e-8 * scale);
        for (shares, exact) in [
            (other.share_top, dense.share_top),
            (other.share_near_null, dense.share_near_null),
            (other.share_negative, dense.share_negative),
        ] {
            assert_eq!(exact.low, exact.high);
            assert!(
                shares.low - 1e-9 <= exact.low && exact.low <= shares.high + 1e-9,
                "{shares:?} vs {exact:?}"
            );
        }
        for (a, b) in other.layers.iter().zip(&dense.layers) {
            assert!((a.block_lambda_min - b.block_lambda_min).abs() < 1e-8 * scale);
            assert!((a.block_lambda_max - b.block_lambda_max).abs() < 1e-8 * scale);
        }
    }
    // τ = 0 counts rounding-sized eigenvalues either way; from 10⁻⁴ λ_max on the counts agree.
    assert_eq!(inertia.index[1..], dense.index[1..]);
    let (p, k) = (net.parameters() as f64, dense.index[2]);
    let f = k / p;
    let standard_error = p * (2.0 * f * (1.0 - f) / (16.0 * (p + 2.0))).sqrt();
    assert!(
        (estimated.index[2] - k).abs() <= 5.0 * standard_error.max(1.0 / 16.0),
        "{:?} vs {:?}",
        estimated.index,
        dense.index
    );
}
