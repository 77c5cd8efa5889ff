#!/usr/bin/env bash
# Pre-training on a slurm cluster.
#   tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]
# GPUS (total, default 8), GPUS_PER_NODE (default 8), CPUS_PER_TASK
# (default 5 per GPU) and SRUN_ARGS are read from the environment.
# Without RESTARTS: one task per GPU (--launcher slurm); a failed task ends
# the job. RESTARTS=N: one task per node running tools/dist_train.sh
# (torchrun), which restarts the workers of all nodes up to N times after a
# failure, each restart resuming from the newest checkpoint of WORK_DIR; the
# nodes meet at the first node of the allocation on PORT (default 29500).
set -euo pipefail
if [[ $# -lt 4 ]]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
shift 4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-}
# ROOT, RESTARTS, TRAIN_SCRIPT, PYTHON
source "$(dirname "${BASH_SOURCE[0]}")/launch_env.sh"
CONFIG="$(resolve_config "$CONFIG")"
export TRAIN_SCRIPT PYTHON RESTARTS

if [[ $RESTARTS -gt 0 ]]; then
    PER_NODE=$((GPUS < GPUS_PER_NODE ? GPUS : GPUS_PER_NODE))
    if ((GPUS % PER_NODE)); then
        echo "$0: GPUS=$GPUS is not a multiple of GPUS_PER_NODE=$GPUS_PER_NODE" >&2
        exit 2
    fi
    NODES=$((GPUS / PER_NODE))
    # shellcheck disable=SC2016,SC2086
    srun -p "$PARTITION" \
        --job-name="$JOB_NAME" \
        --gres=gpu:"$PER_NODE" \
        --nodes="$NODES" \
        --ntasks="$NODES" \
        --ntasks-per-node=1 \
        --cpus-per-task=$((CPUS_PER_TASK * PER_NODE)) \
        --kill-on-bad-exit=1 \
        $SRUN_ARGS \
        bash -c 'MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1) \
            NNODES=$SLURM_NNODES RDZV_ID=${RDZV_ID:-$SLURM_JOB_ID} exec "$@"' _ \
        "$ROOT/tools/dist_train.sh" "$CONFIG" "$PER_NODE" --work-dir="$WORK_DIR" "$@"
    exit
fi

# shellcheck disable=SC2086
PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "$PYTHON" -u "$TRAIN_SCRIPT" "$CONFIG" --work-dir="$WORK_DIR" \
    --launcher=slurm "$@"
