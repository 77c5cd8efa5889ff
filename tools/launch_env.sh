# Sourced by tools/dist_train.sh and tools/slurm_train.sh: sets ROOT (the
# repository), RESTARTS (checked), TRAIN_SCRIPT (the Python entry point:
# tools/train.py unless set, tools/benchmarks/* set their own) and PYTHON
# (the project's .venv unless PYTHON names another interpreter); defines
# resolve_config.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RESTARTS=${RESTARTS:-0}
if [[ ! $RESTARTS =~ ^[0-9]+$ ]]; then
    echo "$0: RESTARTS must be a number of restarts (0, 1, 2, ...), got '$RESTARTS'" >&2
    exit 2
fi
TRAIN_SCRIPT=${TRAIN_SCRIPT:-$ROOT/tools/train.py}
if [[ -z "${PYTHON:-}" ]]; then
    PYTHON=python
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; fi
fi

# resolve_config CONFIG: the file of a config argument as every tool takes it
# (a file, mmpixpro::<path> or a config name of the model index), resolved
# once before any process starts; an unknown one is a single line naming the
# closest configs, and the script stops (exit status 2).
resolve_config() {
    PYTHONPATH="$ROOT:${PYTHONPATH:-}" "$PYTHON" -m mmpixpro.utils.config_resolver \
        --prog "$(basename "$0")" "$1"
}
