#!/usr/bin/env python3
"""numpy baselines for the hessian-signs kernels, to compare with `cargo bench --bench kernels`.

Measures, on one core, samples per second of the GOE index (number of negative eigenvalues)
at dimension n:
  1. the Dumitriu-Edelman tridiagonal model with a Sturm count, vectorised over samples
     (the same algorithm as stuck's `TridiagonalEnsemble::inertia`);
  2. a loop of dense `numpy.linalg.eigvalsh` on H = (G + G^T)/2.

Usage: python3 scripts/numpy_hessian_baseline.py [n] [tridiagonal_samples] [dense_samples]
"""
import os

# One core, as the Rust single-thread bench; must be set before numpy is imported.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import sys
import time

import numpy as np


def tridiagonal_indices(rng, n, samples):
    """Index of `samples` GOE matrices via the tridiagonal model, vectorised over samples."""
    a = rng.standard_normal((samples, n))
    dof = np.arange(n - 1, 0, -1, dtype=float)  # n-1, ..., 1
    b2 = rng.chisquare(dof, size=(samples, n - 1)) / 2.0
    pivot = a[:, 0].copy()
    tiny = np.finfo(float).tiny
    pivot[np.abs(pivot) <= tiny] = -tiny
    negative = (pivot < 0).astype(np.int64)
    for k in range(1, n):
        pivot = a[:, k] - b2[:, k - 1] / pivot
        pivot[np.abs(pivot) <= tiny] = -tiny
        negative += pivot < 0
    return negative


def dense_indices(rng, n, samples):
    """Index of `samples` GOE matrices via a loop of dense eigvalsh."""
    out = np.empty(samples, dtype=np.int64)
    for s in range(samples):
        g = rng.standard_normal((n, n))
        h = (g + g.T) / 2.0
        out[s] = np.count_nonzero(np.linalg.eigvalsh(h) < 0)
    return out


def rate(fn, rng, n, samples, repeats=5):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn(rng, n, samples)
        best = min(best, time.perf_counter() - start)
    return samples / best


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    tri_samples = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    dense_samples = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    rng = np.random.default_rng(1)
    # Sanity: both methods estimate the same mean index n/2.
    assert abs(tridiagonal_indices(rng, n, 20_000).mean() - n / 2) < 0.2
    print(f"numpy {np.__version__}, n = {n}, one thread")
    print(f"tridiagonal (vectorised): {rate(tridiagonal_indices, rng, n, tri_samples):,.0f} samples/s")
    print(f"dense eigvalsh loop:      {rate(dense_indices, rng, n, dense_samples, repeats=3):,.0f} samples/s")


if __name__ == "__main__":
    main()
