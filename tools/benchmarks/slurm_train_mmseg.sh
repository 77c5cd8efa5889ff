#!/usr/bin/env bash
# tools/benchmarks/slurm_train_mmseg.sh PARTITION JOB_NAME CONFIG CHECKPOINT WORK_DIR [options]:
# see slurm_benchmark.sh
exec "$(dirname "$0")/slurm_benchmark.sh" "$@"
