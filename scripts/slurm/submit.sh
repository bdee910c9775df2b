#!/usr/bin/env bash
# Submits a stuck run as a SLURM job array of N shards plus a dependent merge job.
# The merged CSV in OUT/merged is byte-identical to a single-machine run with the same seed
# and parameters. Build first (cargo build --release) on a node that shares the file system.
set -euo pipefail

usage() {
    cat >&2 <<'USAGE'
usage: scripts/slurm/submit.sh SCENARIO N OUT [PROFILE] [SEED]

  SCENARIO  a scenario name (stuck list)
  N         number of shards (array tasks), a positive integer
  OUT       output folder on the shared file system (shards in OUT/shard-K, result in OUT/merged)
  PROFILE   parameter profile (default: paper)
  SEED      seed (default: 1)

Environment: CPUS (cores per shard, default 8), TIME (time limit per shard, default 04:00:00),
EXTRA (more stuck options, e.g. "--set replicates=1000").
Example: CPUS=32 TIME=12:00:00 scripts/slurm/submit.sh hessian-signs 16 /scratch/stuck
USAGE
    exit 2
}

[ "$#" -ge 3 ] && [ "$#" -le 5 ] || usage
scenario="$1"; shards="$2"; out="$3"; profile="${4:-paper}"; seed="${5:-1}"
cpus="${CPUS:-8}"; time_limit="${TIME:-04:00:00}"
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: N must be a positive integer, got '$shards'" >&2; usage; }
[[ "$cpus" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: CPUS must be a positive integer, got '$cpus'" >&2; usage; }
[[ "$seed" =~ ^[0-9]+$ ]] || { echo "submit.sh: SEED must be a non-negative integer, got '$seed'" >&2; usage; }
command -v sbatch >/dev/null || { echo "submit.sh: sbatch not found (run this on a SLURM login node)" >&2; exit 2; }

cd "$(dirname "$0")/../.."
export SCENARIO="$scenario" SHARDS="$shards" OUT="$out" PROFILE="$profile" SEED="$seed"
array=$(sbatch --parsable --array=1-"$shards" --cpus-per-task="$cpus" --time="$time_limit" \
    --export=ALL scripts/slurm/run-shards.sbatch)
sbatch --dependency=afterok:"$array" --export=ALL scripts/slurm/merge.sbatch
echo "submitted array $array ($shards shards, $cpus cores and $time_limit each) and its merge into $out/merged"
