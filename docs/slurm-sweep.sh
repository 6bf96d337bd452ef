#!/usr/bin/env bash
# Run a gradscope sweep as a Slurm array job, one shard per array task, then merge.
#
#   sbatch --array=0-7 docs/slurm-sweep.sh configs/plain-vs-resnet.toml
#   # when every task has finished:
#   gradscope merge sweeps/shards/* --out sweeps/plain-vs-resnet
#
# Each task reads its slice from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (gradscope does
# this by itself when --shard is not given) and writes its own folder, so tasks never write the
# same file. A task that is preempted or killed can simply be resubmitted: finished runs are
# skipped. `gradscope merge` then writes results.csv identical to an unsharded sweep's.
#SBATCH --job-name=gradscope-sweep
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=01:00:00
#SBATCH --output=sweeps/logs/%A_%a.out
set -euo pipefail

SWEEP=${1:?usage: sbatch --array=0-N docs/slurm-sweep.sh SWEEP.toml}
GRADSCOPE=${GRADSCOPE:-target/release/gradscope}   # build once: cargo build --release --bin gradscope
mkdir -p sweeps/shards sweeps/logs

"$GRADSCOPE" sweep "$SWEEP" \
    --out "sweeps/shards/shard-${SLURM_ARRAY_TASK_ID}" \
    --jobs 1 --threads "${SLURM_CPUS_PER_TASK:-2}" --no-progress
