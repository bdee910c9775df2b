#!/usr/bin/env bash
# Regenerates results/ (the reference results of the paper profile) from scratch.
# Usage: scripts/regenerate-results.sh [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-$(nproc)}"
cargo build --release
./target/release/stuck all --profile paper --seed 1 --threads "$threads" --force --out results/ | tee results/verdicts.txt
