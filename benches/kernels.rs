//! Criterion benches of the hot kernel of every scenario, with throughput in samples, runs,
//! coordinate updates or parameters per second. Run with `cargo bench --bench kernels`; the numbers for a named CPU are
//! in the README, beside `scripts/numpy_hessian_baseline.py`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use stuck::landscape::{
    CoinHessian, DenseWigner, SplittingWorkspace, TridiagonalEnsemble, WallSplitting,
};
use stuck::mc::chunk_stream;

/// Index of one sampled Hessian: the article's coin model, GOE tridiagonal (Sturm count)
/// and GOE dense (symmetric eigenvalues).
fn hessian_index(c: &mut Criterion) {
    let mut group = c.benchmark_group("hessian_index");
    group.throughput(Throughput::Elements(1));
    for n in [8usize, 100] {
        let mut rng = chunk_stream(1, "bench", 0, 0);
        let coin = CoinHessian::new(n);
        group.bench_with_input(BenchmarkId::new("coin", n), &n, |b, _| {
            b.iter(|| black_box(coin.sample_index(&mut rng)))
        });
        let goe = TridiagonalEnsemble::goe(n);
        group.bench_with_input(BenchmarkId::new("goe_tridiagonal", n), &n, |b, _| {
            b.iter(|| black_box(goe.negative_count(0.0, &mut rng)))
        });
        let mut ahead = rng.clone();
        ahead.jump();
        group.throughput(Throughput::Elements(2));
        group.bench_with_input(BenchmarkId::new("goe_tridiagonal_pair", n), &n, |b, _| {
            b.iter(|| black_box(goe.negative_count_pair(0.0, &mut rng, &mut ahead)))
        });
        group.throughput(Throughput::Elements(1));
        let mut dense = DenseWigner::goe(n);
        group.bench_with_input(BenchmarkId::new("goe_dense", n), &n, |b, _| {
            b.iter(|| black_box(dense.sample_index(&mut rng)))
        });
    }
    group.finish();
}

/// "Is this sample a minimum?" with early stopping: the cost must not grow with n.
fn minimum_only(c: &mut Criterion) {
    let mut group = c.benchmark_group("goe_is_minimum");
    group.throughput(Throughput::Elements(1));
    for n in [10usize, 100, 1000] {
        let mut rng = chunk_stream(2, "bench", 0, 0);
        let goe = TridiagonalEnsemble::goe(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| black_box(goe.is_positive_definite(0.0, &mut rng)))
        });
    }
    group.finish();
}

/// One full rare-event run (adaptive multilevel splitting) at n = 20 with 100 particles.
fn splitting_run(c: &mut Criterion) {
    let mut group = c.benchmark_group("goe_splitting_run");
    group.sample_size(10);
    group.throughput(Throughput::Elements(1));
    let goe = TridiagonalEnsemble::goe(20);
    let splitting = WallSplitting::new(&goe, 100, 0.3, 2);
    let mut rng = chunk_stream(3, "bench", 0, 0);
    let mut workspace = SplittingWorkspace::default();
    group.bench_function("n20_particles100", |b| {
        b.iter(|| black_box(splitting.run(0.0, &mut rng, &mut workspace)))
    });
    group.finish();
}

/// Kac–Rice weight of one Gaussian-field Hessian (shifted tridiagonal, ln |det|).
fn field_weight(c: &mut Criterion) {
    let mut group = c.benchmark_group("gaussian_field_inertia");
    group.throughput(Throughput::Elements(1));
    let field = TridiagonalEnsemble::gaussian_field(100);
    let mut rng = chunk_stream(4, "bench", 0, 0);
    group.bench_function("n100", |b| {
        b.iter(|| black_box(field.inertia(20.0, &mut rng)))
    });
    group.finish();
}

/// One optimizer step per landscape, in coordinate updates per second.
fn optimizer_steps(c: &mut Criterion) {
    use stuck::landscape::{
        DegenerateLoss, DegenerateTerrain, DoubleWell, Objective, QuadraticSaddle, Shelf,
        TwoLayerLinear,
    };
    use stuck::optim::{Method, Optimizer, OptimizerConfig};
    let mut group = c.benchmark_group("optimizer_step");
    let mut rng = chunk_stream(5, "bench", 0, 0);
    let d = 100;
    let saddle = QuadraticSaddle::new(d, 1, 1.0, 1.0);
    let well = DoubleWell::new(d, 0.0);
    let net = TwoLayerLinear::teacher(4, 4, 4, 64, 0.1, &mut rng);
    let gd = |method| OptimizerConfig {
        method,
        learning_rate: 0.01,
        clip: None,
    };
    group.throughput(Throughput::Elements(d as u64));
    for (name, method) in [
        ("saddle_gd", Method::Gd),
        ("saddle_noisy_gd", Method::NoisyGd { sigma: 1e-3 }),
        ("saddle_momentum", Method::Momentum { beta: 0.9 }),
        (
            "saddle_adam",
            Method::Adam {
                beta1: 0.9,
                beta2: 0.999,
                epsilon: 1e-8,
            },
        ),
    ] {
        let mut optimizer = Optimizer::new(gd(method), d, 0);
        let mut x = vec![1e-3; d];
        group.bench_function(name, |b| {
            b.iter(|| black_box(optimizer.step(&saddle, &mut x, &mut rng)))
        });
    }
    let mut optimizer = Optimizer::new(gd(Method::NoisyGd { sigma: 1.0 }), d, 0);
    let mut x = vec![-1.0f64; d];
    group.bench_function("double_well_noisy_gd", |b| {
        b.iter(|| {
            x[0] = x[0].clamp(-2.0, 2.0);
            black_box(optimizer.step(&well, &mut x, &mut rng))
        })
    });
    // plateau-crossing's shelf (d = 10, heavy ball) and degenerate-trap's half trap (noisy GD,
    // restarted before the trap every step so the iterate stays in range).
    let shelf = Shelf {
        width: 10.0,
        slope: 0.01,
        steep: 1.0,
        edge: 0.01,
        dimension: 10,
    };
    group.throughput(Throughput::Elements(10));
    let mut optimizer = Optimizer::new(gd(Method::Momentum { beta: 0.9 }), 10, 0);
    let mut x = vec![0.0f64; 10];
    group.bench_function("shelf_d10_momentum", |b| {
        b.iter(|| {
            x[0] = x[0].rem_euclid(10.0);
            black_box(optimizer.step(&shelf, &mut x, &mut rng))
        })
    });
    let trap = DegenerateTerrain {
        loss: DegenerateLoss::HalfTrap { c: 5.0, trap: 1.0 },
        dimension: 1,
    };
    group.throughput(Throughput::Elements(1));
    let mut optimizer = Optimizer::new(gd(Method::NoisyGd { sigma: 0.1 }), 1, 0);
    let mut x = [0.5f64];
    group.bench_function("half_trap_noisy_gd", |b| {
        b.iter(|| {
            x[0] = 0.5;
            black_box(optimizer.step(&trap, &mut x, &mut rng))
        })
    });
    group.throughput(Throughput::Elements(net.dimension() as u64));
    let mut optimizer = Optimizer::new(
        gd(Method::Sgd { batch: 8 }),
        net.dimension(),
        net.examples(),
    );
    let mut theta = vec![1e-2; net.dimension()];
    group.bench_function("linear_net_sgd_batch8", |b| {
        b.iter(|| black_box(optimizer.step(&net, &mut theta, &mut rng)))
    });
    group.finish();
}

/// One training step of the plateau models: a deep linear network (D = 4 layers of width 8,
/// GD and SGD with batch 4; throughput in parameters) and one online step of a soft
/// committee machine (K = M = 2, N = 256; throughput in input coordinates).
fn plateau_steps(c: &mut Criterion) {
    use stuck::landscape::{DeepLinearNet, Initialisation, Objective, SoftCommittee};
    use stuck::optim::{Method, Optimizer, OptimizerConfig};
    let mut group = c.benchmark_group("plateau_step");
    let mut rng = chunk_stream(6, "bench", 0, 0);
    let net = DeepLinearNet::teacher(8, 4, 1.0, 64, &mut rng);
    group.throughput(Throughput::Elements(net.dimension() as u64));
    for (name, method) in [
        ("deep_linear_d4_w8_gd", Method::Gd),
        ("deep_linear_d4_w8_sgd_batch4", Method::Sgd { batch: 4 }),
    ] {
        let config = OptimizerConfig {
            method,
            learning_rate: 0.01,
            clip: None,
        };
        let mut optimizer = Optimizer::new(config, net.dimension(), net.examples());
        let mut theta = vec![0.0; net.dimension()];
        net.initialise(Initialisation::Orthogonal, 1e-3, &mut theta, &mut rng);
        group.bench_function(name, |b| {
            b.iter(|| black_box(optimizer.step(&net, &mut theta, &mut rng)))
        });
    }
    let mut machine = SoftCommittee::new(256, 2, 2, 0.1, &mut rng);
    group.throughput(Throughput::Elements(256));
    group.bench_function("committee_k2_n256_online", |b| {
        b.iter(|| black_box(machine.step(0.5, &mut rng)))
    });
    group.finish();
}

criterion_group!(
    benches,
    hessian_index,
    minimum_only,
    splitting_run,
    field_weight,
    optimizer_steps,
    plateau_steps
);
criterion_main!(benches);
