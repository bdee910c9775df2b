#!/usr/bin/env python3
"""Train a small MLP on the UCI digits in PyTorch and export it for `stuck audit`.

Writes, into the folder given (default `audit-demo/`):
  digits.safetensors  the trained nn.Sequential (Linear, Tanh, Linear), float64, with the
                      activation in the metadata (`activation = tanh`);
  digits.csv          the training data exactly as the model saw them: the 64 standardised
                      pixels, then the integer label.

Then:
    cargo run --release -- audit --model audit-demo/digits.safetensors \
        --data audit-demo/digits.csv --weight-decay 1e-3 --out audit-demo/out

Nothing in stuck's build or tests needs this script (the tests write their own safetensors
files from Rust). Usage:
    python3 -m venv /tmp/torch && /tmp/torch/bin/pip install torch safetensors scikit-learn \
        --extra-index-url https://download.pytorch.org/whl/cpu
    /tmp/torch/bin/python scripts/torch_export_digits.py [OUT] [--hidden 40] [--epochs 300]
"""
import argparse
import os

import numpy as np
import torch
from safetensors.torch import save_file
from sklearn.datasets import load_digits


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="audit-demo")
    parser.add_argument("--hidden", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--weight-decay", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_default_dtype(torch.float64)

    digits = load_digits()
    x = digits.data.astype(np.float64)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    x = (x - x.mean(axis=0)) / scale
    y = digits.target.astype(np.int64)
    inputs, labels = torch.from_numpy(x), torch.from_numpy(y)

    model = torch.nn.Sequential(
        torch.nn.Linear(64, args.hidden), torch.nn.Tanh(), torch.nn.Linear(args.hidden, 10)
    )
    # Full-batch GD with the L2 term on the weights only, as `--weight-decay` audits it:
    # loss = mean cross-entropy + (λ/2) Σ ‖W‖².
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), labels)
        penalty = sum((m.weight**2).sum() for m in model if isinstance(m, torch.nn.Linear))
        (loss + 0.5 * args.weight_decay * penalty).backward()
        optimizer.step()
        if epoch % 50 == 0 or epoch == args.epochs - 1:
            print(f"epoch {epoch:4d}  loss {loss.item():.6f}")

    os.makedirs(args.out, exist_ok=True)
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(
        tensors,
        os.path.join(args.out, "digits.safetensors"),
        metadata={"activation": "tanh"},
    )
    with open(os.path.join(args.out, "digits.csv"), "w") as f:
        f.write(",".join([f"p{i}" for i in range(64)] + ["label"]) + "\n")
        for row, label in zip(x, y):
            f.write(",".join(repr(float(v)) for v in row) + f",{label}\n")
    print(f"wrote {args.out}/digits.safetensors and {args.out}/digits.csv")


if __name__ == "__main__":
    main()
