#!/usr/bin/env bash
# The prepared GPU check, for the first (short) time a GPU is at hand: does
# pre-training run, checkpoint and resume on it, and how fast is it.
#
#   tools/analysis/gpu_check.sh [OUT_DIR]        # default work_dirs/gpu_check
#
# Run from a checkout (it uses tools/train.py and .dev_scripts/), in the
# environment of `make install` or `make install WHEELHOUSE=DIR` (PY, default
# .venv/bin/python). Within $LIMIT (420) seconds on one GPU, in this order:
#
# 1. correctness (.dev_scripts/train_check.py): tools/train.py with the
#    ResNet-50 C5 config and the FPN + head config, $TRAIN_BATCH (128) images
#    x 2 views of the bundled photos, two epochs of two iterations each, with
#    --amp, channels_last, SyncBN as BN (one process) and the config's
#    optimizer (PixProLARS); the pixel head dense and chunked (its
#    `max_elements` given: None against 2**18), their losses compared; a
#    checkpoint every epoch, a run resumed from the dense run's first one
#    while launched with the chunked bound, which must keep the dense path
#    and continue with the straight run's losses; peak memory
#    -> OUT_DIR/train_check.json, OUT_DIR/train_check/<C5|FPN>/ (configs, runs,
#    their logs);
# 2. the pixel head at P3 of 224 px, $HEAD_BATCH (128) images: dense against
#    chunked (the head's `max_elements`: None against 2**22), peak memory,
#    forward + backward time, largest difference -> OUT_DIR/pixel_head.json;
# 3. the speed matrix (.dev_scripts/speed.py --matrix): ResNet-50 C5, 224 px,
#    batch $BATCH (64) x 2 views, AMP, channels_last and torch.compile each on
#    and off, one process per combination, median of $STEPS (10) steps: step
#    time, images / s, peak memory, compile time and payback; uncompiled
#    combinations first, each started only if it fits in what is left of
#    $LIMIT -> OUT_DIR/speed_matrix.json (rewritten after each combination).
#
# OUT_DIR/gpu_check.json gathers the three with the versions and the device;
# OUT_DIR/gpu_check.log is everything printed. Exit status 1 when a part
# failed (its error is in the JSON), 0 otherwise. Without a visible CUDA
# device it measures nothing, writes {"skipped": ...} and exits 0.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ ! -f "$ROOT/tools/train.py" || ! -d "$ROOT/.dev_scripts" ]]; then
    echo "gpu_check: $ROOT is not a checkout of mmpixpro (no tools/train.py or" \
        ".dev_scripts/): run tools/analysis/gpu_check.sh of a checkout" >&2
    exit 2
fi
cd "$ROOT"
PY=${PY:-.venv/bin/python}
OUT=${1:-work_dirs/gpu_check}
LIMIT=${LIMIT:-420}
TRAIN_BATCH=${TRAIN_BATCH:-128}
HEAD_BATCH=${HEAD_BATCH:-128}
BATCH=${BATCH:-64}
STEPS=${STEPS:-10}
if ! command -v "$PY" >/dev/null; then
    echo "gpu_check: no Python at $PY: run \`make install\` (or \`make install" \
        "WHEELHOUSE=DIR\`) first, or set PY=" >&2
    exit 2
fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
exec > >(tee -a "$OUT/gpu_check.log") 2>&1
START=$(date +%s)
left() { echo $((LIMIT - ($(date +%s) - START))); }
say() { echo "[gpu_check $(date +%H:%M:%S)] $*"; }

if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
    say "no CUDA device visible; nothing measured (wrote $OUT/gpu_check.json)"
    "$PY" -c 'import json, sys; json.dump({"skipped": "no CUDA device visible"}, open(sys.argv[1], "w"))' \
        "$OUT/gpu_check.json"
    exit 0
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

# A part that runs past its share is stopped; what it wrote so far stays.
run_part() {  # NAME SECONDS COMMAND...
    local name=$1 seconds=$2 rc=0
    shift 2
    say "$name (at most ${seconds}s): $*"
    timeout --signal=INT --kill-after=15 "$seconds" "$@" || rc=$?
    echo "$rc" > "$OUT/.$name.rc"
    say "$name: exit status $rc"
}

run_part train_check $(( $(left) * 55 / 100 )) "$PY" .dev_scripts/train_check.py \
    "$OUT/train_check" --batch "$TRAIN_BATCH" --timeout 150
[[ -f "$OUT/train_check/train_check.json" ]] &&
    cp "$OUT/train_check/train_check.json" "$OUT/train_check.json"
run_part pixel_head $(( $(left) > 150 ? 90 : $(left) / 2 )) "$PY" .dev_scripts/speed.py \
    --pixel-head --device cuda --batch "$HEAD_BATCH" --size 224 --steps 5 \
    --json "$OUT/pixel_head.json"
budget=$(( $(left) - 45 ))
if (( budget > 20 )); then
    run_part speed_matrix $((budget + 40)) "$PY" .dev_scripts/speed.py --matrix \
        --device cuda --batch "$BATCH" --size 224 --steps "$STEPS" --budget "$budget" \
        --json "$OUT/speed_matrix.json"
else
    say "speed_matrix: skipped, ${budget}s left"
    echo skipped > "$OUT/.speed_matrix.rc"
fi

"$PY" - "$OUT" "$START" <<'PYEOF'
import json, os.path as osp, sys, time
import mmcv, mmdet, mmengine, mmpretrain, torch
import mmpixpro
out, start = sys.argv[1], float(sys.argv[2])
report = dict(
    device=torch.cuda.get_device_name(), torch=torch.__version__,
    cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
    mmcv=mmcv.__version__, mmengine=mmengine.__version__, mmdet=mmdet.__version__,
    mmpretrain=mmpretrain.__version__, mmpixpro=mmpixpro.__version__, status={})
failed = []
for part in ('train_check', 'pixel_head', 'speed_matrix'):
    rc = open(osp.join(out, f'.{part}.rc')).read().strip()
    report['status'][part] = rc
    path = osp.join(out, f'{part}.json')
    report[part] = json.load(open(path)) if osp.isfile(path) else None
    if rc not in ('0', 'skipped') and not (part == 'speed_matrix' and rc in ('124', '130')):
        failed.append(part)
if report['train_check'] and not report['train_check'].get('ok', False):
    failed.append('train_check (resume or run)')
report['failed'] = failed
report['elapsed_s'] = time.time() - start
json.dump(report, open(osp.join(out, 'gpu_check.json'), 'w'), indent=1)
print(f'[gpu_check] wrote {out}/gpu_check.json in {report["elapsed_s"]:.0f}s; '
      f'failed: {", ".join(failed) or "nothing"}')
sys.exit(1 if failed else 0)
PYEOF
