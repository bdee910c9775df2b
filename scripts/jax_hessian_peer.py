#!/usr/bin/env python3
"""JAX peer of `cargo bench --bench nets`: the same networks, data and quantities on one core.

Measures, in float64 on the CPU, with the 1797 standardised UCI digits (scikit-learn's copy,
which is the set stuck compiles in through smartcore):
  1. one Hessian-vector product of a 64-16-10 tanh network with softmax cross-entropy
     (forward-over-reverse, jax.jvp of jax.grad), mean over repeats after compilation;
  2. the dense Hessian (jax.hessian) plus its eigenvalues (numpy.linalg.eigvalsh) of the
     64-16-10 (P = 1210) and 64-40-10 (P = 3010) networks.

Nothing in the build or the tests needs this script. Usage:
    python3 -m venv /tmp/jax && /tmp/jax/bin/pip install jax scikit-learn
    /tmp/jax/bin/python scripts/jax_hessian_peer.py
"""
import os

# One core, as the Rust numbers per thread; must be set before jax is imported.
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import time

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.datasets import load_digits

jax.config.update("jax_enable_x64", True)


def digits():
    d = load_digits()
    x = d.data.astype(np.float64)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    x = (x - x.mean(axis=0)) / scale
    return jnp.asarray(x), jnp.asarray(d.target)


def init(widths, key):
    params = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        key, sub = jax.random.split(key)
        params.append(jax.random.normal(sub, (n_in, n_out)) / np.sqrt(n_in))
        params.append(jnp.zeros(n_out))
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    return flat, unravel


def make_loss(unravel, x, y):
    def loss(flat):
        params = unravel(flat)
        a = x
        for i in range(0, len(params) - 2, 2):
            a = jnp.tanh(a @ params[i] + params[i + 1])
        z = a @ params[-2] + params[-1]
        return jnp.mean(jax.nn.logsumexp(z, axis=1) - z[jnp.arange(len(y)), y])

    return loss


def timed(f, repeats):
    f()  # compile
    start = time.perf_counter()
    for _ in range(repeats):
        f()
    return (time.perf_counter() - start) / repeats


def main():
    import jax.flatten_util  # noqa: F401 (registers ravel_pytree)

    x, y = digits()
    key = jax.random.PRNGKey(0)
    flat, unravel = init([64, 16, 10], key)
    loss = make_loss(unravel, x, y)
    v = jax.random.normal(jax.random.PRNGKey(1), flat.shape)
    hvp = jax.jit(lambda p, v: jax.jvp(jax.grad(loss), (p,), (v,))[1])
    t = timed(lambda: hvp(flat, v).block_until_ready(), 200)
    print(f"hvp 64-16-10 on 1797 digits: {t * 1e3:.3f} ms")
    for hidden in (16, 40):
        flat, unravel = init([64, hidden, 10], key)
        loss = make_loss(unravel, x, y)
        hess = jax.jit(jax.hessian(loss))
        t_h = timed(lambda: hess(flat).block_until_ready(), 3)
        h = np.asarray(hess(flat))
        t_e = timed(lambda: np.linalg.eigvalsh(h), 3)
        print(f"dense Hessian P = {flat.size}: {t_h:.2f} s, eigenvalues {t_e:.2f} s")


if __name__ == "__main__":
    main()
