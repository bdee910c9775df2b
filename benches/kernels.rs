//! Criterion benches of the hot kernels, with throughput in samples per second.
//!
//! Run with `cargo bench`; numbers for a named CPU are in the README.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use stuck::landscape::{CoinHessian, DenseWigner};
use stuck::mc::chunk_stream;

/// Index of one sampled Hessian: the article's coin model and dense GOE.
fn hessian_index(c: &mut Criterion) {
    let mut group = c.benchmark_group("hessian_index");
    group.throughput(Throughput::Elements(1));
    for n in [2usize, 8, 32] {
        let mut rng = chunk_stream(1, "bench", 0, 0);
        let coin = CoinHessian::new(n);
        group.bench_with_input(BenchmarkId::new("coin", n), &n, |b, _| {
            b.iter(|| black_box(coin.sample_index(&mut rng)))
        });
        let mut goe = DenseWigner::goe(n);
        group.bench_with_input(BenchmarkId::new("goe_dense", n), &n, |b, _| {
            b.iter(|| black_box(goe.sample_index(&mut rng)))
        });
    }
    group.finish();
}

criterion_group!(benches, hessian_index);
criterion_main!(benches);
