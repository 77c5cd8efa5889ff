#!/usr/bin/env bash
# Collect every wheel that mmpixpro's stack needs beyond PyTorch into one
# folder, for a GPU node without internet that has its own torch:
#
#   tools/misc/make_wheelhouse.sh OUT [--python X.Y] [--torch V]
#       [--torchvision W] [--interpreter PATH] [--torch-index URL]
#       [--platform TAG]...
#
# Run it on a connected machine, copy OUT along with the checkout, and on the
# node: `make install WHEELHOUSE=OUT` (tools/install.sh, nothing downloaded).
# --python / --torch: the node's Python and torch (default: this machine's
# python3 and the pinned torch 2.14.1); --torchvision defaults to the one
# released with that torch (0.<minor + 15>.<patch>). OUT then holds:
#
# - the wheels of requirements/pinned.txt and pinned-nodeps.txt (mmengine,
#   mmpretrain, mmdet, mmsegmentation, openmim, the test tools) and of their
#   dependencies, for that Python on manylinux (--platform: the wheel
#   platforms to accept, default x86_64 manylinux up to glibc 2.28), binary
#   wheels only; the fast decoders (pyspng, simplejpeg) when they have a wheel
#   for that Python (they are optional); setuptools and wheel;
# - mmcv 2.1.0 built with its (CPU) ops against that torch version: enough to
#   import mmdet and pre-train on a GPU. For the pinned Python and torch it is
#   the wheel tools/install.sh caches in $MMPIXPRO_CACHE (~/.cache/mmpixpro);
#   for another pair it is built once the same way, by tools/install.sh in a
#   temporary virtual environment of that interpreter (--interpreter, default
#   pythonX.Y on PATH) with that torch (--torch-index: pip's index for it,
#   e.g. https://download.pytorch.org/whl/cpu for the small CPU build), and
#   cached there too;
# - src/mmcv-2.1.0.tar.gz, to build mmcv's CUDA ops on the node
#   (`FORCE_CUDA=1 make install WHEELHOUSE=OUT`, for detector fine-tuning);
# - mmpixpro's own wheel (`pip install --no-index --find-links OUT mmpixpro`
#   into an environment of the node's own);
# - wheelhouse.json: the Python, torch and platforms it is for, and its files.
#
# Prints the total size.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${MMPIXPRO_CACHE:-$HOME/.cache/mmpixpro}"
MMCV_VERSION="2.1.0"
OPTIONAL_DECODERS="pyspng simplejpeg"

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "make_wheelhouse: $*" >&2; exit 1; }
log() { echo "[wheelhouse $(date +%H:%M:%S)] $*"; }

[[ $# -ge 1 && "$1" != -* ]] || usage
OUT="$1"
shift
PYVER="" TORCH="2.14.1" TORCHVISION="" INTERP="" TORCH_INDEX=""
PLATFORMS=()
while [[ $# -gt 0 ]]; do
    [[ $# -ge 2 ]] || usage
    case "$1" in
        --python) PYVER="$2" ;;
        --torch) TORCH="$2" ;;
        --torchvision) TORCHVISION="$2" ;;
        --interpreter) INTERP="$2" ;;
        --torch-index) TORCH_INDEX="$2" ;;
        --platform) PLATFORMS+=("$2") ;;
        *) usage ;;
    esac
    shift 2
done
[[ -n "$PYVER" ]] || PYVER="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[[ "$PYVER" =~ ^3\.[0-9]+$ ]] || die "--python $PYVER: give major.minor, e.g. 3.12"
[[ "$TORCH" =~ ^2\.([0-9]+)\.([0-9]+)$ ]] || die "--torch $TORCH: give a release, e.g. 2.11.0"
TORCHVISION="${TORCHVISION:-0.$((BASH_REMATCH[1] + 15)).${BASH_REMATCH[2]}}"
PYTAG="cp${PYVER/./}"
if [[ ${#PLATFORMS[@]} -eq 0 ]]; then
    arch="$(uname -m)"
    for glibc in 2_28 2_27 2_26 2_24 2_17 2_12 2_5; do
        PLATFORMS+=("manylinux_${glibc}_${arch}")
    done
    PLATFORMS+=("manylinux2014_${arch}" "manylinux2010_${arch}" "manylinux1_${arch}")
fi
mkdir -p "$OUT/src"
OUT="$(cd "$OUT" && pwd)"

# pip for the downloads: the project's environment when there is one (its
# torch lets pip read mmcv's sdist), else python3.
PIP_PY="$ROOT/.venv/bin/python"
[[ -x "$PIP_PY" ]] || PIP_PY="$(command -v python3)"
PIP=("$PIP_PY" -m pip --disable-pip-version-check)
TARGET=(--only-binary=:all: --implementation cp --python-version "$PYVER")
for p in "${PLATFORMS[@]}"; do TARGET+=(--platform "$p"); done

# 1. mmcv with ops, built against torch $TORCH for Python $PYVER.
mmcv_wheel() {
    ls "$CACHE"/wheels/mmcv-"$MMCV_VERSION"-torch"$TORCH"-cpu/mmcv-"$MMCV_VERSION"-"$PYTAG"-*.whl \
        2>/dev/null | head -n1
}
if [[ -z "$(mmcv_wheel)" ]]; then
    INTERP="${INTERP:-$(command -v "python$PYVER" || true)}"
    [[ -n "$INTERP" ]] || die "no python$PYVER on PATH to build mmcv for it: give --interpreter PATH"
    found="$("$INTERP" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    [[ "$found" == "$PYVER" ]] || die "--interpreter $INTERP is Python $found, not $PYVER"
    BUILD_VENV="$(mktemp -d)"
    trap 'rm -rf "$BUILD_VENV"' EXIT
    log "building mmcv $MMCV_VERSION for Python $PYVER + torch $TORCH (CPU ops) in $BUILD_VENV"
    "$INTERP" -m venv "$BUILD_VENV/venv"
    index=()
    [[ -z "$TORCH_INDEX" ]] || index=(--index-url "$TORCH_INDEX")
    "$BUILD_VENV/venv/bin/python" -m pip install -q --disable-pip-version-check "${index[@]}" \
        "torch==$TORCH" "torchvision==$TORCHVISION"
    # tools/install.sh builds the wheel into $CACHE (no GPU visible: CPU ops),
    # then installs and imports the whole stack for that Python: a check that
    # the pins have wheels for it.
    env -u FORCE_CUDA CUDA_VISIBLE_DEVICES= VENV="$BUILD_VENV/venv" PYTHON="$INTERP" \
        TORCH_PINS="torch==$TORCH torchvision==$TORCHVISION" MMPIXPRO_CACHE="$CACHE" \
        bash "$ROOT/tools/install.sh"
fi
MMCV_WHEEL="$(mmcv_wheel)"
[[ -n "$MMCV_WHEEL" ]] || die "no mmcv wheel for $PYTAG + torch $TORCH in $CACHE/wheels"
log "mmcv: $MMCV_WHEEL"
cp "$MMCV_WHEEL" "$OUT/"
"${PIP[@]}" download -q --no-deps --no-binary :all: "mmcv==$MMCV_VERSION" -d "$OUT/src"

# 2. The stack and its dependencies, for the node's Python (mmcv's own
#    dependencies from its wheel's metadata).
REQS="$OUT/.requirements.txt"
{
    grep -v -E "^($(echo "$OPTIONAL_DECODERS" | tr ' ' '|'))[=<>! ]" "$ROOT/requirements/pinned.txt"
    python3 - "$MMCV_WHEEL" <<'PYEOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    name = next(n for n in wheel.namelist() if n.endswith('.dist-info/METADATA'))
    for line in wheel.read(name).decode().splitlines():
        if line.startswith('Requires-Dist: ') and 'extra ==' not in line:
            print(line[len('Requires-Dist: '):])
PYEOF
    echo "setuptools>=77.0.3,<80.9"
    echo "wheel"
} > "$REQS"
log "wheels of requirements/pinned.txt and their dependencies for Python $PYVER"
"${PIP[@]}" download -q "${TARGET[@]}" -r "$REQS" -d "$OUT"
"${PIP[@]}" download -q "${TARGET[@]}" --no-deps -r "$ROOT/requirements/pinned-nodeps.txt" -d "$OUT"
rm -f "$REQS"
MISSING=()
for name in $OPTIONAL_DECODERS; do
    pin="$(grep -E "^$name[=<>! ]" "$ROOT/requirements/pinned.txt" | sed 's/ *#.*//')"
    if ! "${PIP[@]}" download -q "${TARGET[@]}" --no-deps "$pin" -d "$OUT" 2>/dev/null; then
        MISSING+=("$name")
        log "note: no $pin wheel for Python $PYVER; images will be decoded by OpenCV"
    fi
done
for pkg in torch torchvision triton nvidia; do  # the node brings its own
    [[ -z "$(ls "$OUT"/"$pkg"[-_]*.whl 2>/dev/null)" ]] ||
        die "a requirement pulled in $pkg: $(ls "$OUT"/"$pkg"[-_]*.whl | head -n1)"
done

# 3. mmpixpro's own wheel, from a clean copy of the checkout's files (an
#    in-tree build/ could carry files deleted since).
SRC="$(mktemp -d)"
(
    cd "$ROOT"
    git ls-files -z -co --exclude-standard |
        python3 -c 'import os, sys
names = sys.stdin.buffer.read().split(b"\0")
sys.stdout.buffer.write(b"\0".join(n for n in names if n and os.path.lexists(n)))' |
        tar --null -T - -cf - | tar -xf - -C "$SRC"
)
"$PIP_PY" -m pip wheel -q --disable-pip-version-check --no-deps -w "$OUT" "$SRC"
rm -rf "$SRC"

# 4. What it is for, and its files.
"$PIP_PY" - "$OUT" "$PYVER" "$TORCH" "$TORCHVISION" "$(basename "$MMCV_WHEEL")" \
    "${MISSING[*]:-}" "${PLATFORMS[@]}" <<'PYEOF'
import datetime, json, os, sys
out, python, torch, torchvision, mmcv, missing, *platforms = sys.argv[1:]
files = {}
for folder, _, names in os.walk(out):
    for name in names:
        path = os.path.join(folder, name)
        if name != 'wheelhouse.json':
            files[os.path.relpath(path, out)] = os.path.getsize(path)
manifest = dict(
    python=python, torch=torch, torchvision=torchvision,
    mmcv=dict(wheel=mmcv, built_for_torch=torch, ops='cpu', sdist='src/mmcv-2.1.0.tar.gz'),
    optional_missing=missing.split(), platforms=platforms,
    created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
    total_bytes=sum(files.values()), files=dict(sorted(files.items())),
)
with open(os.path.join(out, 'wheelhouse.json'), 'w') as f:
    json.dump(manifest, f, indent=1)
print(f'[wheelhouse] {len(files)} files, {manifest["total_bytes"] / 2**20:.0f} MiB in {out} '
      f'(Python {python}, torch {torch}); on the node: make install WHEELHOUSE={out}')
PYEOF
