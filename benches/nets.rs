//! Criterion benches of the network layer on the full UCI digits (1797 examples): one
//! Hessian-vector product of a 64-16-10 tanh network (R-operator), and the dense Hessians of
//! the 64-16-10 and 64-40-10 networks (1210 and 3010 parameters; one thread, as JAX's peer,
//! and every thread of the rayon pool) with their eigenvalues (faer, sequential), one LBLᵀ
//! inertia count, the chunked parallel Hessian-vector product of `stuck audit`, and the whole
//! audit of a 64-40-10 network (the "a few seconds on 2 cores").
//! Run with `cargo bench --bench nets`; `scripts/jax_hessian_peer.py` does the same with JAX.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use stuck::audit::{AuditRequest, ModelOptions, run_audit, save_model};
use stuck::mc::chunk_stream;
use stuck::nets::{
    Activation, ChunkedEvaluator, Dataset, Loss, Mlp, Spectrum, dense_hessian, index_by_inertia,
};

fn full_digits() -> Dataset {
    let digits = Dataset::digits();
    digits.split(0.0, &mut chunk_stream(1, "bench", 0, 0)).train
}

fn hessian_vector_product(c: &mut Criterion) {
    let data = full_digits();
    let net = Mlp::new(&[64, 16, 10], Activation::Tanh, Loss::CrossEntropy, 0.0);
    let mut rng = chunk_stream(2, "bench", 0, 0);
    let theta = net.initialise(1.0, &mut rng);
    let v = net.initialise(1.0, &mut rng);
    let mut ws = net.workspace(data.examples());
    let mut g = vec![0.0; net.parameters()];
    net.loss_and_gradient(&theta, &data, &mut ws, &mut g);
    let mut hv = vec![0.0; net.parameters()];
    c.bench_function("hvp_64_16_10_digits", |b| {
        b.iter(|| {
            net.hessian_vector(&theta, &data, &mut ws, &v, &mut hv);
            black_box(hv[0])
        })
    });
    c.bench_function("gradient_64_16_10_digits", |b| {
        b.iter(|| black_box(net.loss_and_gradient(&theta, &data, &mut ws, &mut g)))
    });
}

fn dense_hessian_and_spectrum(c: &mut Criterion) {
    let data = full_digits();
    let mut group = c.benchmark_group("dense_hessian_digits");
    group.sample_size(10);
    for hidden in [16usize, 40] {
        let net = Mlp::new(&[64, hidden, 10], Activation::Tanh, Loss::CrossEntropy, 0.0);
        let theta = net.initialise(1.0, &mut chunk_stream(3, "bench", 0, 0));
        let p = net.parameters();
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("a one-thread pool");
        group.bench_function(format!("hessian_p{p}_1thread"), |b| {
            b.iter(|| one_thread.install(|| black_box(dense_hessian(&net, &theta, &data))))
        });
        group.bench_function(format!("hessian_p{p}_all_threads"), |b| {
            b.iter(|| black_box(dense_hessian(&net, &theta, &data)))
        });
        let h = dense_hessian(&net, &theta, &data);
        group.bench_function(format!("eigenvalues_p{p}"), |b| {
            b.iter(|| black_box(Spectrum::of(&h, p).map(|s| s.min())))
        });
        group.bench_function(format!("inertia_p{p}"), |b| {
            b.iter(|| black_box(index_by_inertia(&h, p, 1e-3)))
        });
    }
    group.finish();
}

/// `stuck audit` of a 64-40-10 tanh network (P = 3 010) on the 1 797 digits, end to end from
/// the files (between the eigen and dense limits: dense Hessian, four inertia counts, Lanczos,
/// the Newton-MR search), and the chunked Hessian-vector product it runs on.
fn audit_end_to_end(c: &mut Criterion) {
    let data = full_digits();
    let net = Mlp::new(&[64, 40, 10], Activation::Tanh, Loss::CrossEntropy, 1e-3);
    let theta = net.initialise(1.0, &mut chunk_stream(4, "bench", 0, 0));
    let v = net.initialise(1.0, &mut chunk_stream(5, "bench", 0, 0));
    let mut group = c.benchmark_group("audit_64_40_10_digits");
    group.sample_size(10);
    let mut evaluator = ChunkedEvaluator::new(&net, &data, Some(256));
    let mut g = vec![0.0; net.parameters()];
    evaluator.loss_and_gradient(&net, &theta, &mut g);
    let mut hv = vec![0.0; net.parameters()];
    group.bench_function("hvp_chunked_256", |b| {
        b.iter(|| {
            evaluator.hessian_vector(&net, &theta, &v, &mut hv);
            black_box(hv[0])
        })
    });
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (model, csv) = (dir.path().join("m.safetensors"), dir.path().join("d.csv"));
    save_model(&model, &net, &theta).expect("the model is written");
    let mut text: String = (0..data.features).map(|i| format!("x{i},")).collect();
    text += "label\n";
    for (k, y) in data.labels.iter().enumerate() {
        let row = &data.inputs[k * data.features..(k + 1) * data.features];
        let fields: Vec<String> = row.iter().map(|x| format!("{x:?}")).collect();
        text += &format!("{},{y}\n", fields.join(","));
    }
    std::fs::write(&csv, text).expect("the data are written");
    let request = AuditRequest {
        model,
        data: csv,
        labels: None,
        options: ModelOptions {
            activation: None,
            loss: Loss::CrossEntropy,
            weight_decay: 1e-3,
        },
        out: dir.path().join("out"),
        dense_limit: stuck::audit::DENSE_LIMIT,
        eigen_limit: stuck::audit::EIGEN_LIMIT,
    };
    group.bench_function("audit", |b| {
        b.iter(|| black_box(run_audit(&request).expect("the audit runs").0.lambda_max))
    });
    group.finish();
}

criterion_group!(
    benches,
    hessian_vector_product,
    dense_hessian_and_spectrum,
    audit_end_to_end
);
criterion_main!(benches);
