"""Fine-tune a PixPro checkpoint with a benchmark config, in mmdet / mmseg /
mmpretrain's own Runner (the config's ``default_scope`` decides which).

    python tools/benchmarks/train.py CONFIG CHECKPOINT [--work-dir DIR] ...
    tools/benchmarks/train_mmdet.sh CONFIG CHECKPOINT GPUS [options]

The checkpoint is loaded by the config's ``PretrainedTransferHook`` after
the model's own initialisation; the log and ``transfer_report.json`` list
what was loaded and what starts fresh. A missing checkpoint, one without
``backbone.*`` tensors, or one that does not fit the model stops the run
before training.
"""

import argparse
import os.path as osp

from mmengine.config import Config
from mmengine.runner import Runner

from mmpixpro.benchmarks.transfer import find_hook_cfg, load_state_dict_file
from mmpixpro.utils.config_check import check_config
from mmpixpro.utils.run_args import add_run_args, merge_run_args


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='mmpixpro transfer benchmark')
    parser.add_argument('config', help='benchmark config file')
    parser.add_argument('checkpoint', help='PixPro pre-training checkpoint')
    return add_run_args(parser).parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    hook = find_hook_cfg(cfg)
    if hook is None:
        raise KeyError(f'{args.config} has no PretrainedTransferHook in custom_hooks')
    # Fail here, before the Runner, on a missing or unreadable checkpoint; the
    # hook checks that it fits the model once the model exists.
    state = load_state_dict_file(args.checkpoint)
    if not any(k.startswith('backbone.') for k in state):
        raise ValueError(
            f'{args.checkpoint!r} has no backbone.* tensors: not a PixPro '
            'pre-training checkpoint'
        )
    hook.checkpoint = osp.abspath(args.checkpoint)
    cfg = merge_run_args(cfg, args)
    check_config(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
