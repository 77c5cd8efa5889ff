"""Evaluate a fine-tuned model of a benchmark config, in mmdet / mmseg /
mmpretrain's own Runner (the config's ``default_scope`` decides which).

    python tools/benchmarks/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out M.json]
    tools/benchmarks/dist_test.sh CONFIG CHECKPOINT GPUS [options]

CHECKPOINT is a checkpoint written by tools/benchmarks/train.py with the same
config (the whole detector / segmentor / classifier). It is loaded strictly:
a pre-training checkpoint or one of another model stops the run, naming the
tensors that do not fit, instead of evaluating a half-initialised model.
Loading stays ``weights_only=True``: a file carrying pickled code is refused.
The metrics are printed and, with ``--out``, written as JSON.
"""

import argparse
import json
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.dist import is_main_process
from mmengine.runner import Runner

from mmpixpro.utils.config_check import check_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='mmpixpro benchmark evaluation')
    parser.add_argument('config', help='benchmark config file')
    parser.add_argument('checkpoint', help='fine-tuned checkpoint of that config')
    parser.add_argument('--work-dir', help='where the evaluation log is written')
    parser.add_argument('--out', help='write the metrics to this JSON file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value',
    )
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher',
    )
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args(argv)


def build_test_config(args: argparse.Namespace) -> Config:
    """The config for evaluation: no pre-trained weights to load (the
    fine-tuned checkpoint holds every tensor), the work dir, the launcher."""
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} not found')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.custom_hooks = [
        hook
        for hook in cfg.get('custom_hooks', None) or []
        if hook.get('type', '').split('.')[-1] != 'PretrainedTransferHook'
    ]
    cfg.load_from = None  # loaded strictly below
    cfg.resume = False
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        name = osp.splitext(osp.basename(args.config))[0]
        cfg.work_dir = osp.join('./work_dirs', name, 'test')
    if args.launcher != 'none' and not torch.cuda.is_available():
        from mmpixpro.engine import setup_cpu_distributed

        # NCCL needs GPUs; gloo runs the same job on CPU processes.
        cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
        setup_cpu_distributed(cfg)
    check_config(cfg)
    return cfg


def main(argv=None) -> dict:
    args = parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    cfg = build_test_config(args)
    import mmpixpro  # noqa: F401  (allows the types of Runner checkpoints)

    runner = Runner.from_cfg(cfg)
    # strict: every tensor of the model must come from the checkpoint
    runner.load_checkpoint(args.checkpoint, map_location='cpu', strict=True)
    metrics = runner.test()
    if args.out and is_main_process():
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=1)
    return metrics


if __name__ == '__main__':
    try:
        result = main()
    except (FileNotFoundError, RuntimeError, KeyError, TypeError) as exc:
        print(f'test.py: error: {exc}', file=sys.stderr)
        sys.exit(2)
    if is_main_process():
        print(json.dumps(result, indent=1))
