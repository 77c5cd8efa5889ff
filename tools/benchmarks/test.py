"""Evaluate a fine-tuned model of a benchmark config in mmdet / mmseg /
mmpretrain's own Runner, its checkpoint loaded strictly
(mmpixpro.benchmarks.evaluate)::

    python tools/benchmarks/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out M.json]
    tools/benchmarks/dist_test.sh CONFIG CHECKPOINT GPUS [options]
"""

import argparse
import json
import os

from mmengine.config import DictAction
from mmengine.dist import is_main_process

import mmpixpro.engine.safe_checkpoint_loading  # noqa: F401 (mmengine reads checkpoints with ours)
from mmpixpro.benchmarks.evaluate import evaluate_checkpoint
from mmpixpro.utils.cli import add_debug_arg, run_tool


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config', help='a file, mmpixpro::<path> or a config name')
    parser.add_argument('checkpoint', help='fine-tuned checkpoint of that config')
    parser.add_argument('--work-dir', help='where the evaluation log is written')
    parser.add_argument(
        '--out',
        help='write the metrics to this JSON file (replaced atomically; a '
        'symbolic link there is refused)',
    )
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    launchers = ['none', 'pytorch', 'slurm', 'mpi']
    parser.add_argument('--launcher', default='none', choices=launchers)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = vars(add_debug_arg(parser).parse_args(argv))
    args.pop('debug')
    os.environ.setdefault('LOCAL_RANK', str(args.pop('local_rank')))
    return evaluate_checkpoint(**args)


def print_metrics(argv=None) -> None:
    result = main(argv)
    if is_main_process():
        print(json.dumps(result, indent=1))


if __name__ == '__main__':
    run_tool(print_metrics)
