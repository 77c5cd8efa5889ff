#!/usr/bin/env bash
# Distributed pre-training with torchrun.
#   tools/dist_train.sh CONFIG GPUS [train.py options]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR and PORT, e.g. on each node
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 tools/dist_train.sh CONFIG 8
# RESTARTS=N (default 0): after a failure (a killed or crashed rank, an
# out-of-memory kill) torchrun stops the other workers and starts them all
# again, up to N times; each restart resumes from the newest checkpoint of the
# work dir that loads. The nodes then meet through torchrun's c10d rendezvous
# at MASTER_ADDR:PORT (node ranks are assigned; RDZV_ID, default "mmpixpro",
# must be the same on every node and differ between jobs sharing the port).
set -euo pipefail
if [[ $# -lt 2 ]]; then
    echo "usage: $0 CONFIG GPUS [train.py options]" >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
# ROOT, RESTARTS, TRAIN_SCRIPT, PYTHON
source "$(dirname "${BASH_SOURCE[0]}")/launch_env.sh"
CONFIG="$(resolve_config "$CONFIG")"

if [[ $RESTARTS -gt 0 ]]; then
    # Workers sharing torchrun's rendezvous store read the previous attempt's
    # keys after a restart and hang or fail in init_process_group (seen here
    # with torch 2.14, gloo; pytorch/pytorch#135712): each attempt gets its
    # own store. The static rendezvous always shares it, hence c10d.
    export TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1
    RENDEZVOUS=(
        --max-restarts="$RESTARTS"
        --rdzv-backend=c10d
        --rdzv-endpoint="$MASTER_ADDR:$PORT"
        --rdzv-id="${RDZV_ID:-mmpixpro}"
    )
else
    RENDEZVOUS=(--node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" --master_port="$PORT")
fi

PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --nproc_per_node="$GPUS" \
    "${RENDEZVOUS[@]}" \
    "$TRAIN_SCRIPT" "$CONFIG" --launcher pytorch "$@"
