#!/usr/bin/env bash
# Fine-tune a PixPro checkpoint with torchrun (mmdet / mmseg / mmpretrain
# Runner, chosen by the config's default_scope).
#   tools/benchmarks/dist_benchmark.sh CONFIG CHECKPOINT GPUS [options]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT as for tools/dist_train.sh.
set -euo pipefail
if [[ $# -lt 3 ]]; then
    echo "usage: $0 CONFIG CHECKPOINT GPUS [tools/benchmarks/train.py options]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
shift 3
TOOLS="$(cd "$(dirname "$0")/.." && pwd)"
TRAIN_SCRIPT="$TOOLS/benchmarks/train.py" \
    exec "$TOOLS/dist_train.sh" "$CONFIG" "$GPUS" "$CHECKPOINT" "$@"
