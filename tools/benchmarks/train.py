"""Fine-tune a pre-trained checkpoint with a benchmark config in mmdet / mmseg /
mmpretrain's own Runner (the config's ``default_scope`` decides which); its
``PretrainedTransferHook`` loads the checkpoint (mmpixpro.benchmarks.finetune),
ours or a published one in any layout of mmpixpro.benchmarks.layouts
(torchvision / timm, mmpretrain / MMSelfSup, the MoCo, DenseCL, SoCo, SlotCon,
PyContrast and PixPro releases, detectron2 .pkl), recognised from its contents.
As tools/train.py, through ``FaultTolerantRunner``: ``--resume`` and a worker
that torchrun restarts resume from the newest checkpoint that loads::

    python tools/benchmarks/train.py CONFIG CHECKPOINT [--work-dir DIR] ...
    [RESTARTS=3] tools/benchmarks/dist_benchmark.sh CONFIG CHECKPOINT GPUS [options]

CONFIG is a file, ``mmpixpro::benchmarks/<path>`` or a config name of the
model index. ``--smoke [ITERS]`` makes the run a smoke run: ITERS (4)
iterations, precise BN and the evaluation on two batches of images
(mmpixpro.benchmarks.smoke).

The downstream project's own script fine-tunes the same way, the checkpoint
given as ``load_from`` (the hook takes a pre-training checkpoint from there)::

    mim train mmdet CONFIG --cfg-options load_from=CHECKPOINT
"""

import argparse

from torch.distributed.elastic.multiprocessing.errors import record

import mmpixpro.engine.safe_checkpoint_loading  # noqa: F401 (mmengine reads checkpoints with ours)
from mmpixpro.benchmarks.finetune import check_backbone_depth, finetune_config
from mmpixpro.benchmarks.smoke import add_smoke_arg, smoke_config
from mmpixpro.engine.config_check import check_config
from mmpixpro.engine.fault_tolerant_runner import FaultTolerantRunner
from mmpixpro.engine.run_args import add_run_args, merge_run_args
from mmpixpro.utils.cli import run_tool


@record  # torchrun's summary of a failed job shows the failed rank's error
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config', help='a file, mmpixpro::<path> or a config name')
    parser.add_argument(
        'checkpoint', help='pre-trained checkpoint (.pth / .pkl, any known layout)'
    )
    args = add_run_args(add_smoke_arg(parser)).parse_args(argv)
    cfg = finetune_config(args.config, args.checkpoint)
    if args.smoke is not None:
        smoke_config(cfg, args.smoke)
    cfg = merge_run_args(cfg, args)
    check_config(cfg)
    check_backbone_depth(cfg)
    FaultTolerantRunner.from_cfg(cfg).train()


if __name__ == '__main__':
    run_tool(main)
