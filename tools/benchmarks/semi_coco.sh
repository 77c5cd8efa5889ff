#!/usr/bin/env bash
# tools/benchmarks/semi_coco.sh CHECKPOINT [semi_coco.py options]: every fold x
# percentage of semi-supervised COCO, then mean ± std (see semi_coco.py).
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHON=${PYTHON:-python}
if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; fi
exec "$PYTHON" "$ROOT/tools/benchmarks/semi_coco.py" "$@"
