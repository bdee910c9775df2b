#!/usr/bin/env bash
# Submits a stuck run as a SLURM job array of N shards plus a dependent merge job.
# Usage: scripts/slurm/submit.sh SCENARIO N OUT [PROFILE] [SEED]
# The merged CSV in OUT/merged is byte-identical to a single-machine run with the same seed
# and parameters. Build first (cargo build --release) on a node that shares the file system.
set -euo pipefail
scenario="$1"; shards="$2"; out="$3"; profile="${4:-paper}"; seed="${5:-1}"
cd "$(dirname "$0")/../.."
export SCENARIO="$scenario" SHARDS="$shards" OUT="$out" PROFILE="$profile" SEED="$seed"
array=$(sbatch --parsable --array=1-"$shards" --export=ALL scripts/slurm/run-shards.sbatch)
sbatch --dependency=afterok:"$array" --export=ALL scripts/slurm/merge.sbatch
echo "submitted array $array ($shards shards) and its merge into $out/merged"
