"""Pre-train with an mmpixpro config through mmengine's Runner.

Examples::

    python tools/train.py configs/selfsup/pixpro_r50_c5_8xb128-coslr-100e_in1k.py
    python tools/train.py pixpro_r50_c5_8xb128-coslr-100e_in1k   # a config name
    python tools/train.py CONFIG --work-dir work_dirs/x --resume
    python tools/train.py CONFIG --cfg-options train_dataloader.batch_size=64
    tools/dist_train.sh CONFIG 8 [--amp]
    RESTARTS=3 tools/dist_train.sh CONFIG 8   # torchrun restarts failed workers
    python tools/train.py CONFIG --work-dir DIR --resume --force-unlock  # node crashed

A worker that torchrun restarts resumes from the newest checkpoint of the work
dir that loads (``FaultTolerantRunner``).
"""

import argparse

from mmengine.config import Config
from torch.distributed.elastic.multiprocessing.errors import record

import mmpixpro.engine.safe_checkpoint_loading  # noqa: F401 (mmengine reads checkpoints with ours)
from mmpixpro.engine.config_check import check_config
from mmpixpro.engine.fault_tolerant_runner import FaultTolerantRunner
from mmpixpro.engine.run_args import add_run_args, merge_run_args
from mmpixpro.utils import register_all_modules
from mmpixpro.utils.cli import run_tool
from mmpixpro.utils.config_resolver import resolve_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='mmpixpro pre-training')
    parser.add_argument('config', help='config: a file, mmpixpro::<path> or a name')
    return add_run_args(parser).parse_args(argv)


# torchrun's summary of a failed job then shows the error of the failed rank.
@record
def main(argv=None) -> None:
    args = parse_args(argv)
    args.config = resolve_config(args.config)
    register_all_modules(init_default_scope=False)
    cfg = merge_run_args(Config.fromfile(args.config), args)
    check_config(cfg)
    runner = FaultTolerantRunner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    run_tool(main)
