#!/usr/bin/env python3
"""The walkthrough's model without PyTorch: the same 64-40-10 tanh MLP trained on the digits in
JAX (float64), saved in PyTorch's nn.Sequential layout with `safetensors.numpy`.

Same initial law as PyTorch's nn.Linear (weights and biases uniform on ±1/sqrt(fan_in)), same
full-batch GD (eta = 0.5, 300 epochs, L2 1e-3 on the weights), same standardised data; the
numbers differ from a PyTorch run only through the random draws. Writes OUT/digits.safetensors
and OUT/digits.csv (default OUT = audit-demo/). Usage:
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install jax numpy scikit-learn safetensors
    /tmp/venv/bin/python scripts/jax_export_digits.py [OUT]
"""
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
from safetensors.numpy import save_file
from sklearn.datasets import load_digits

jax.config.update("jax_enable_x64", True)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "audit-demo"
    digits = load_digits()
    x = digits.data.astype(np.float64)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    x = (x - x.mean(axis=0)) / scale
    y = digits.target
    rng = np.random.default_rng(0)

    def linear(fan_in, fan_out):
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, (fan_out, fan_in)), rng.uniform(-bound, bound, fan_out)

    params = [jnp.array(a) for a in (*linear(64, 40), *linear(40, 10))]
    inputs, labels = jnp.array(x), jnp.array(y)

    def loss(p):
        hidden = jnp.tanh(inputs @ p[0].T + p[1])
        logits = hidden @ p[2].T + p[3]
        cross_entropy = jnp.mean(
            jax.nn.logsumexp(logits, axis=1) - logits[jnp.arange(len(labels)), labels]
        )
        return cross_entropy + 0.5e-3 * (jnp.sum(p[0] ** 2) + jnp.sum(p[2] ** 2))

    step = jax.jit(jax.value_and_grad(loss))
    for epoch in range(300):
        value, grads = step(params)
        params = [a - 0.5 * g for a, g in zip(params, grads)]
        if epoch % 50 == 0 or epoch == 299:
            print(f"epoch {epoch:4d}  loss {float(value):.6f}")
    os.makedirs(out, exist_ok=True)
    names = ["0.weight", "0.bias", "2.weight", "2.bias"]
    save_file(
        {k: np.asarray(v) for k, v in zip(names, params)},
        os.path.join(out, "digits.safetensors"),
        metadata={"activation": "tanh"},
    )
    with open(os.path.join(out, "digits.csv"), "w") as f:
        f.write(",".join([f"p{i}" for i in range(64)] + ["label"]) + "\n")
        for row, label in zip(x, y):
            f.write(",".join(repr(float(v)) for v in row) + f",{label}\n")
    print(f"wrote {out}/digits.safetensors and {out}/digits.csv")


if __name__ == "__main__":
    main()
