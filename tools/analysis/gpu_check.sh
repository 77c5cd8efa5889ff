#!/usr/bin/env bash
# A prepared GPU check of the PixPro training step, for the first time a GPU
# machine is available (under 5 minutes on one GPU):
#
#   tools/analysis/gpu_check.sh [OUT.json]        # default work_dirs/gpu_check.json
#
# ResNet-50 C5 (the configs' model, SyncBN as BN on one process), 224 px,
# batch $BATCH (64) x 2 views, the config's optimizer (PixProLARS) and
# momentum update: AMP (fp16, dynamic loss scaling) on and off,
# channels_last on and off, torch.compile on and off. For each combination,
# in its own process: median step time over $STEPS (10) steps after two
# warm-up steps, images / s, peak CUDA memory, and for compiled ones the
# compile time and the steps it takes to pay it back. Uncompiled
# combinations run first; a combination starts only if it is expected to end
# within $BUDGET (240) s (taking as long as the longest so far),
# so the compiled ones that do not fit are listed as skipped. The JSON is
# rewritten after every combination (tools/analysis/speed.py --matrix).
#
# Without a visible CUDA device it measures nothing, writes
# {"skipped": ...} to OUT and exits 0 (that path is tested on CPU).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
OUT=${1:-work_dirs/gpu_check.json}
BATCH=${BATCH:-64}
STEPS=${STEPS:-10}
BUDGET=${BUDGET:-240}
mkdir -p "$(dirname "$OUT")"

if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
    echo "gpu_check: no CUDA device visible; nothing measured (wrote $OUT)" >&2
    "$PY" -c 'import json, sys; json.dump({"skipped": "no CUDA device visible"}, open(sys.argv[1], "w"))' "$OUT"
    exit 0
fi

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
# Whatever runs past the budget is stopped (results so far stay in OUT):
# with the defaults the check ends within 5 minutes.
rc=0
timeout --signal=INT --kill-after=10 $((BUDGET + 45)) \
    "$PY" tools/analysis/speed.py --matrix --device cuda \
    --batch "$BATCH" --size 224 --steps "$STEPS" --budget "$BUDGET" --json "$OUT" \
    || rc=$?
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "gpu_check: stopped at the time limit; results so far in $OUT" >&2
    exit 0
fi
[ "$rc" -eq 0 ] || exit "$rc"
echo "gpu_check: wrote $OUT"
