"""Evaluate a fine-tuned model of a benchmark config in mmdet / mmseg /
mmpretrain's own Runner, its checkpoint loaded strictly
(mmpixpro.benchmarks.evaluate)::

    python tools/benchmarks/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out M.json]
    tools/benchmarks/dist_test.sh CONFIG CHECKPOINT GPUS [options]
"""

import argparse
import json
import os
import sys

from mmengine.config import DictAction
from mmengine.dist import is_main_process

from mmpixpro.benchmarks.evaluate import evaluate_checkpoint


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config', help='benchmark config file')
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
    args = vars(parser.parse_args(argv))
    os.environ.setdefault('LOCAL_RANK', str(args.pop('local_rank')))
    return evaluate_checkpoint(**args)


if __name__ == '__main__':
    try:
        result = main()
    except (OSError, RuntimeError, KeyError, TypeError) as exc:  # one line
        print(f'test.py: error: {exc}', file=sys.stderr)
        sys.exit(2)
    if is_main_process():
        print(json.dumps(result, indent=1))
