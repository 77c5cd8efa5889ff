"""Linear probe of frozen dense features on a Cityscapes-layout dataset: a
Markdown table of mIoU / aAcc per model (mmpixpro.analysis.dense_probe)::

    python tools/analysis/dense_probe.py --config CONFIG --checkpoints A.pth B.pth \\
        --random --data-root data/cityscapes [--level C5] [--size 256 512] [--epochs 30]
"""

import argparse

import torch

from mmpixpro.analysis import dense_probe
from mmpixpro.utils.cli import add_debug_arg, run_tool


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('--config', required=True, help='pre-training config')
    parser.add_argument('--checkpoints', nargs='+', default=[], metavar='CKPT')
    parser.add_argument('--random', action='store_true', help='add the random init')
    parser.add_argument('--data-root', required=True, help='Cityscapes-layout root')
    parser.add_argument('--level', help="e.g. C5 or P3; default: the config's first")
    parser.add_argument('--size', type=int, nargs=2, default=[256, 512])
    parser.add_argument('--epochs', type=int, default=30, help='of the probe')
    parser.add_argument('--batch-size', type=int, default=8, help='images per step')
    parser.add_argument('--lr', type=float, default=0.1, help='of the probe')
    parser.add_argument('--max-images', type=int, help='at most N images a split')
    parser.add_argument('--seed', type=int, default=0, help='seeds everything')
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    args = add_debug_arg(parser).parse_args(argv)
    del args.debug  # run_tool's
    if not args.checkpoints and not args.random:
        parser.error('give --checkpoints, --random, or both')
    if args.epochs < 1 or args.batch_size < 1 or min(args.size) < 1:
        parser.error('--epochs, --batch-size and --size must be positive')
    return dense_probe(**vars(args), log=lambda s: print(s, flush=True), progress=True)


if __name__ == '__main__':
    run_tool(main)
