#!/usr/bin/env bash
# Create .venv/ with the pinned OpenMMLab stack and mmpixpro in editable mode.
#
# A no-op when .venv/ is already complete (stamp file keyed by the pins).
# mmcv 2.1.0 has no wheel for torch 2.14: it is built once from the sdist with
# its ops (C++ standard raised to c++20 for the torch 2.14 headers) and the
# wheel is kept in $MMPIXPRO_CACHE (default ~/.cache/mmpixpro) so that later
# installs (fresh clones, CI) reuse it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
CACHE="${MMPIXPRO_CACHE:-$HOME/.cache/mmpixpro}"
REQ="$ROOT/requirements/pinned.txt"
REQ_NODEPS="$ROOT/requirements/pinned-nodeps.txt"
TORCH_PINS="torch==2.14.1 torchvision==0.29.1"
MMCV_VERSION="2.1.0"
STAMP="$VENV/.mmpixpro-installed"
KEY="$(cat "$REQ" "$REQ_NODEPS" "$ROOT/setup.py" "$0" | sha256sum | cut -c1-16)"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$KEY" ]]; then
    echo "[install] $VENV is up to date"
    exit 0
fi

log() { echo "[install $(date +%H:%M:%S)] $*"; }

if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

log "build tools"
"${PIP[@]}" install -q "setuptools>=77.0.3,<81" wheel ninja
log "torch ($TORCH_PINS)"
# shellcheck disable=SC2086
"${PIP[@]}" install -q $TORCH_PINS

TORCH_VER="$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')"
CUDA_TAG="$("$PY" -c 'import torch; print("cu" + torch.version.cuda.replace(".", "") if torch.cuda.is_available() else "cpu")')"
WHEEL_DIR="$CACHE/wheels/mmcv-$MMCV_VERSION-torch$TORCH_VER-$CUDA_TAG"
mkdir -p "$WHEEL_DIR"
if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    log "building mmcv $MMCV_VERSION with ops for torch $TORCH_VER ($CUDA_TAG); this takes 10-16 min on 2 cores"
    BUILD="$(mktemp -d)"
    trap 'rm -rf "$BUILD"' EXIT
    "${PIP[@]}" download -q --no-deps --no-binary :all: "mmcv==$MMCV_VERSION" -d "$BUILD"
    tar -xzf "$BUILD"/mmcv-"$MMCV_VERSION".tar.gz -C "$BUILD"
    SRC="$BUILD/mmcv-$MMCV_VERSION"
    # torch >= 2.14 headers require C++20.
    sed -i 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
    (cd "$SRC" && MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
        "${PIP[@]}" wheel --no-build-isolation --no-deps -w "$BUILD/dist" . )
    mv "$BUILD"/dist/mmcv-*.whl "$WHEEL_DIR"/
    log "mmcv wheel cached in $WHEEL_DIR"
else
    log "reusing cached mmcv wheel from $WHEEL_DIR"
fi
"${PIP[@]}" install -q --no-deps "$WHEEL_DIR"/mmcv-*.whl

log "OpenMMLab stack and test tools ($REQ)"
"${PIP[@]}" install -q -r "$REQ"
log "mim command line ($REQ_NODEPS, without its dependencies)"
"${PIP[@]}" install -q --no-deps -r "$REQ_NODEPS"
log "mmpixpro (editable)"
"${PIP[@]}" install -q --no-deps --no-build-isolation --use-pep517 -e "$ROOT"

"$PY" - <<'PYEOF'
import mmcv, mmdet, mmengine, mmpretrain, mmseg, torch, torchvision
from mim.version import __version__ as mim_version
from mmcv.ops import nms  # noqa: F401  (fails when mmcv was built without ops)
print(f"[install] torch {torch.__version__}, mmcv {mmcv.__version__}, mmengine {mmengine.__version__}, "
      f"mmdet {mmdet.__version__}, mmseg {mmseg.__version__}, mmpretrain {mmpretrain.__version__}, "
      f"openmim {mim_version}")
PYEOF
echo "$KEY" > "$STAMP"
log "done"
