#!/usr/bin/env bash
# Fine-tune a PixPro checkpoint on slurm, one task per GPU.
#   tools/benchmarks/slurm_benchmark.sh PARTITION JOB_NAME CONFIG CHECKPOINT WORK_DIR [options]
# GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS as for tools/slurm_train.sh.
set -euo pipefail
if [[ $# -lt 5 ]]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT WORK_DIR [options]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
WORK_DIR=$5
shift 5
TOOLS="$(cd "$(dirname "$0")/.." && pwd)"
TRAIN_SCRIPT="$TOOLS/benchmarks/train.py" \
    exec "$TOOLS/slurm_train.sh" "$PARTITION" "$JOB_NAME" "$CONFIG" "$WORK_DIR" \
    "$CHECKPOINT" "$@"
