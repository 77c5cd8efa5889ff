#!/usr/bin/env bash
# Evaluate a fine-tuned benchmark model with torchrun (mmdet / mmseg /
# mmpretrain Runner, chosen by the config's default_scope).
#   tools/benchmarks/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT as for tools/dist_train.sh.
# Without a GPU the processes run on the CPU with gloo.
set -euo pipefail
if [[ $# -lt 3 ]]; then
    echo "usage: $0 CONFIG CHECKPOINT GPUS [tools/benchmarks/test.py options]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
shift 3
TOOLS="$(cd "$(dirname "$0")/.." && pwd)"
RESTARTS=0 TRAIN_SCRIPT="$TOOLS/benchmarks/test.py" \
    exec "$TOOLS/dist_train.sh" "$CONFIG" "$GPUS" "$CHECKPOINT" "$@"
