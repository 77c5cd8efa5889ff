#!/usr/bin/env bash
# Create .venv/ with the pinned OpenMMLab stack and mmpixpro in editable mode.
#
# A no-op when .venv/ is already complete (stamp file keyed by the pins).
# mmcv 2.1.0 has no wheel for torch 2.14: it is built once from the sdist with
# its ops (C++ standard raised to c++20 for the torch 2.14 headers) and the
# wheel is kept in $MMPIXPRO_CACHE (default ~/.cache/mmpixpro) so that later
# installs (fresh clones, CI) reuse it.
#
# WHEELHOUSE=DIR (`make install WHEELHOUSE=DIR`; DIR made by
# tools/misc/make_wheelhouse.sh) is for a machine without internet that has
# its own PyTorch: the environment is made with --system-site-packages, so
# the interpreter's torch and torchvision ($PYTHON: load the node's PyTorch
# first) are used as they are; they must be the Python and torch version DIR
# was made for (mmcv's compiled ops are tied to them). Everything else comes
# from DIR with --no-index: nothing is downloaded. The versions found are
# checked against requirements/runtime.txt, mminstall.txt and optional.txt
# and printed. mmcv is DIR's build with CPU ops (enough to pre-train on a
# GPU); FORCE_CUDA=1 builds it with its CUDA ops from DIR/src instead (nvcc
# needed; for fine-tuning detectors), cached like any other build. Later runs
# without WHEELHOUSE (`make test`, `make demo`) keep using DIR.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
CACHE="${MMPIXPRO_CACHE:-$HOME/.cache/mmpixpro}"
REQ="$ROOT/requirements/pinned.txt"
REQ_NODEPS="$ROOT/requirements/pinned-nodeps.txt"
TORCH_PINS="${TORCH_PINS:-torch==2.14.1 torchvision==0.29.1}"
MMCV_VERSION="2.1.0"
OPTIONAL_DECODERS="pyspng simplejpeg"
# torch 2.14 needs >= 77.0.3; mmcv's and mmengine's pkg_resources needs < 81;
# from 80.9 importing pkg_resources prints a UserWarning ("pkg_resources is
# deprecated"), twice in every mmdet / mmseg run and more under mim (before,
# a DeprecationWarning, which Python shows only for the main script).
SETUPTOOLS="setuptools>=77.0.3,<80.9"
STAMP="$VENV/.mmpixpro-installed"
WHEELHOUSE="${WHEELHOUSE:-$(cat "$VENV/.mmpixpro-wheelhouse" 2>/dev/null || true)}"
if [[ -n "$WHEELHOUSE" ]]; then
    if [[ ! -f "$WHEELHOUSE/wheelhouse.json" ]]; then
        echo "[install] WHEELHOUSE=$WHEELHOUSE has no wheelhouse.json: make it with" \
            "tools/misc/make_wheelhouse.sh on a connected machine" >&2
        exit 1
    fi
    WHEELHOUSE="$(cd "$WHEELHOUSE" && pwd)"
fi
KEY="$({
    cat "$REQ" "$REQ_NODEPS" "$ROOT/setup.py" "$0"
    echo "$TORCH_PINS"
    [[ -z "$WHEELHOUSE" ]] || cat "$WHEELHOUSE/wheelhouse.json"
} | sha256sum | cut -c1-16)"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$KEY" ]]; then
    echo "[install] $VENV is up to date${WHEELHOUSE:+ (from the wheelhouse $WHEELHOUSE)}"
    exit 0
fi

log() { echo "[install $(date +%H:%M:%S)] $*"; }

if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating $VENV"
    if [[ -n "$WHEELHOUSE" ]]; then
        "$PYTHON" -m venv --system-site-packages "$VENV"
    else
        "$PYTHON" -m venv "$VENV"
    fi
elif [[ -n "$WHEELHOUSE" ]] && ! grep -q '^include-system-site-packages = true' "$VENV/pyvenv.cfg"; then
    echo "[install] $VENV was made without --system-site-packages, so it cannot see" \
        "the node's torch: remove it, or give another VENV=" >&2
    exit 1
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)
if [[ -n "$WHEELHOUSE" ]]; then
    # pip's own settings (`--no-index --find-links`) for every pip command here
    export PIP_NO_INDEX=1 PIP_FIND_LINKS="$WHEELHOUSE"
    log "installing from the wheelhouse $WHEELHOUSE (--no-index)"
    # The interpreter's torch must be the one the wheelhouse is for.
    "$PY" - "$WHEELHOUSE/wheelhouse.json" <<'PYEOF'
import json, sys
made = json.load(open(sys.argv[1]))
py = '%d.%d' % sys.version_info[:2]
if py != made['python']:
    sys.exit(f"[install] the wheelhouse is for Python {made['python']}, {sys.executable} is "
             f"{py}: set PYTHON=python{made['python']}, or make a wheelhouse with "
             f"tools/misc/make_wheelhouse.sh OUT --python {py} --torch <the node's torch>")
try:
    import torch, torchvision
except ImportError as error:
    sys.exit(f"[install] {error.name} cannot be imported by {sys.executable}: load the "
             "node's PyTorch first (module load / conda activate), or set PYTHON= to "
             "the interpreter that has it")
found = torch.__version__.split('+')[0]
if found != made['torch']:
    sys.exit(f"[install] the node's torch is {torch.__version__}, the wheelhouse's mmcv is "
             f"built for torch {made['torch']}: make a wheelhouse with "
             f"tools/misc/make_wheelhouse.sh OUT --python {py} --torch {found}")
print(f"[install] the node's torch {torch.__version__} (CUDA {torch.version.cuda}, "
      f"GPU visible: {torch.cuda.is_available()}) and torchvision "
      f"{torchvision.__version__}, from {torch.__file__.rsplit('/torch/', 1)[0]}")
PYEOF
fi

log "build tools"
if [[ -n "$WHEELHOUSE" ]]; then
    # a wheelhouse made before the < 80.9 pin has a newer one: still usable
    "${PIP[@]}" install -q "$SETUPTOOLS" wheel 2>/dev/null || {
        log "note: no $SETUPTOOLS in the wheelhouse (made before this pin): mmdet / mmseg runs print a pkg_resources warning"
        "${PIP[@]}" install -q "setuptools>=77.0.3,<81" wheel
    }
else
    "${PIP[@]}" install -q "$SETUPTOOLS" wheel ninja
    log "torch ($TORCH_PINS)"
    # shellcheck disable=SC2086
    "${PIP[@]}" install -q $TORCH_PINS
fi

TORCH_VER="$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')"
CUDA_TAG="$("$PY" -c 'import torch; print("cu" + torch.version.cuda.replace(".", "") if torch.cuda.is_available() else "cpu")')"
PYTAG="$("$PY" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')"
WHEEL_DIR="$CACHE/wheels/mmcv-$MMCV_VERSION-torch$TORCH_VER-$CUDA_TAG"
BUILD=""
trap '[[ -z "$BUILD" ]] || rm -rf "$BUILD"' EXIT

build_mmcv() {  # SDIST: mmcv's source archive -> a wheel with ops in $WHEEL_DIR
    log "building mmcv $MMCV_VERSION with ops for torch $TORCH_VER ($CUDA_TAG); this takes 10-16 min on 2 cores"
    tar -xzf "$1" -C "$BUILD"
    local src="$BUILD/mmcv-$MMCV_VERSION"
    # torch >= 2.14 headers require C++20.
    sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
    (cd "$src" && MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
        "${PIP[@]}" wheel --no-build-isolation --no-deps -w "$BUILD/dist" . )
    mv "$BUILD"/dist/mmcv-*.whl "$WHEEL_DIR"/
    log "mmcv wheel cached in $WHEEL_DIR"
}

mkdir -p "$WHEEL_DIR"
MMCV_WHEEL="$(ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-"$PYTAG"-*.whl 2>/dev/null | head -n1 || true)"
if [[ -n "$MMCV_WHEEL" ]]; then
    log "reusing cached mmcv wheel $MMCV_WHEEL"
elif [[ -n "$WHEELHOUSE" && "${FORCE_CUDA:-0}" != "1" ]]; then
    MMCV_WHEEL="$WHEELHOUSE/$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["mmcv"]["wheel"])' "$WHEELHOUSE/wheelhouse.json")"
    log "mmcv from the wheelhouse, CPU ops ($MMCV_WHEEL; FORCE_CUDA=1 builds its CUDA ops)"
else
    BUILD="$(mktemp -d)"
    if [[ -n "$WHEELHOUSE" ]]; then
        cp "$WHEELHOUSE/src/mmcv-$MMCV_VERSION.tar.gz" "$BUILD"/
    else
        "${PIP[@]}" download -q --no-deps --no-binary :all: "mmcv==$MMCV_VERSION" -d "$BUILD"
    fi
    build_mmcv "$BUILD/mmcv-$MMCV_VERSION.tar.gz"
    MMCV_WHEEL="$(ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-"$PYTAG"-*.whl | head -n1)"
fi
"${PIP[@]}" install -q --no-deps "$MMCV_WHEEL"

log "OpenMMLab stack and test tools ($REQ)"
if [[ -n "$WHEELHOUSE" ]]; then
    # The fast decoders are optional: the wheelhouse has them when they have
    # a wheel for this Python.
    pattern="^($(echo "$OPTIONAL_DECODERS" | tr ' ' '|'))[=<>! ]"
    "${PIP[@]}" install -q -r <(grep -v -E "$pattern" "$REQ")
    for pin in $(grep -E "$pattern" "$REQ" | sed 's/ *#.*//'); do
        "${PIP[@]}" install -q "$pin" 2>/dev/null ||
            log "note: no $pin in the wheelhouse; images are decoded by OpenCV"
    done
else
    "${PIP[@]}" install -q -r "$REQ"
fi
log "mim command line ($REQ_NODEPS, without its dependencies)"
"${PIP[@]}" install -q --no-deps -r "$REQ_NODEPS"
log "mmpixpro (editable)"
"${PIP[@]}" install -q --no-deps --no-build-isolation --use-pep517 -e "$ROOT"
# mim looks for <site-packages>/mmpixpro/.mim, which an editable install
# lacks: a link to the source package (mmpixpro.packaging.link_editable_install)
"$PY" -c 'import mmpixpro.packaging as p; p.link_editable_install(log=lambda s: print("[install]", s))'

if [[ -n "$WHEELHOUSE" ]]; then
    # What is used, and whether it is within the ranges mmpixpro supports.
    "$PY" - "$ROOT/requirements" <<'PYEOF'
import os.path as osp, sys
from importlib.metadata import PackageNotFoundError, distribution
from packaging.requirements import Requirement

rows, problems = [], []
for name in ('torch', 'torchvision'):
    rows.append((name, distribution(name).version, 'the node\'s', 'as installed'))
for file in ('runtime.txt', 'mminstall.txt', 'optional.txt'):
    for line in open(osp.join(sys.argv[1], file)):
        line = line.split('#')[0].strip()
        if not line:
            continue
        req = Requirement(line)
        try:
            dist = distribution(req.name)
        except PackageNotFoundError:
            if file == 'optional.txt':  # e.g. a decoder without a wheel here
                rows.append((req.name, '-', 'missing', f'{req.specifier or "any"} ({file})'))
            else:
                problems.append(f'{req.name} is not installed (requirements/{file}: {req})')
            continue
        where = 'venv' if osp.realpath(str(dist.locate_file(''))).startswith(
            osp.realpath(sys.prefix)) else 'the node\'s'
        ok = req.specifier.contains(dist.version, prereleases=True)
        rows.append((req.name, dist.version, where, f'{req.specifier or "any"} ({file})'))
        if not ok:
            problems.append(f'{req.name} {dist.version} is outside {req.specifier} '
                            f'(requirements/{file})')
print('[install] using:')
for name, version, where, wanted in rows:
    print(f'[install]   {name:18} {version:12} {where:11} supported: {wanted}')
if problems:
    sys.exit('\n'.join(f'[install] {p}' for p in problems))
PYEOF
fi

"$PY" - <<'PYEOF'
import mmcv, mmdet, mmengine, mmpretrain, mmseg, torch, torchvision
from mim.version import __version__ as mim_version
from mmcv.ops import nms  # noqa: F401  (fails when mmcv was built without ops)
print(f"[install] torch {torch.__version__}, mmcv {mmcv.__version__}, mmengine {mmengine.__version__}, "
      f"mmdet {mmdet.__version__}, mmseg {mmseg.__version__}, mmpretrain {mmpretrain.__version__}, "
      f"openmim {mim_version}")
PYEOF
if [[ -n "$WHEELHOUSE" ]]; then
    echo "$WHEELHOUSE" > "$VENV/.mmpixpro-wheelhouse"
fi
echo "$KEY" > "$STAMP"
log "done"
