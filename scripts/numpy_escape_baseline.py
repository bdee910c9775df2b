#!/usr/bin/env python3
"""numpy baseline for the escape kernels, to compare with `cargo bench --bench kernels`.

Noisy GD x <- x - eta (H x + sigma xi) on the quadratic strict saddle (curvatures -1 and +1),
vectorised over replicas (an R x d array), one thread. Prints coordinate updates per second.

Usage: python3 scripts/numpy_escape_baseline.py [replicas] [dimension] [steps]
"""
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import sys
import time

import numpy as np


def main():
    replicas = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    dimension = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    eta, sigma = 0.01, 1e-3
    rng = np.random.default_rng(1)
    h = np.ones(dimension)
    h[0] = -1.0
    x = np.zeros((replicas, dimension))
    noise = np.empty_like(x)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(steps):
            rng.standard_normal(out=noise)
            noise *= sigma
            noise += h * x
            x -= eta * noise
        best = min(best, time.perf_counter() - start)
    print(f"numpy {np.__version__}: noisy GD, {replicas} replicas x d = {dimension}: "
          f"{replicas * dimension * steps / best:,.0f} coordinate updates/s")


if __name__ == "__main__":
    main()
