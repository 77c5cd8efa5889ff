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
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
if [[ -z "${PYTHON:-}" ]]; then
    PYTHON=python
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; fi
fi

PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$ROOT/tools/benchmarks/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
