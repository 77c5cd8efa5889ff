#!/usr/bin/env bash
# tools/benchmarks/train_mmdet.sh CONFIG CHECKPOINT GPUS [options]: see dist_benchmark.sh
exec "$(dirname "$0")/dist_benchmark.sh" "$@"
