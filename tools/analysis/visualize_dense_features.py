"""PCA colours and similarity maps of a checkpoint's dense features beside a
random initialisation (mmpixpro.visualization.dense_features)::

    python tools/analysis/visualize_dense_features.py CONFIG CHECKPOINT IMAGE... \\
        [--out-dir DIR] [--size S | --size H W] [--levels P3 P5] [--points X,Y ...]
"""

import argparse

import torch

from mmpixpro.utils.cli import add_debug_arg, run_tool
from mmpixpro.visualization import draw_dense_features


def point(text: str) -> tuple:
    try:
        x, y = (float(v) for v in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(f'a point is x,y (pixels), got {text!r}')
    return x, y


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config', help='a file, mmpixpro::<path> or a config name')
    parser.add_argument('checkpoint', help='checkpoint of that config')
    parser.add_argument('images', nargs='+', metavar='IMAGE')
    parser.add_argument('--out-dir', default='work_dirs/dense_features')
    parser.add_argument(
        '--size', type=int, nargs='+', default=[224], help='S (shorter side) or H W'
    )
    parser.add_argument('--points', type=point, nargs='+', help='default: 3 diagonal')
    parser.add_argument('--levels', nargs='+', help="default: the config's out_levels")
    parser.add_argument('--seed', type=int, default=0, help='of the random init')
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    parser.add_argument(
        '--backend', choices=['auto', 'matplotlib', 'cv2'], default='auto'
    )
    args = add_debug_arg(parser).parse_args(argv)
    del args.debug  # run_tool's
    if len(args.size) not in (1, 2) or min(args.size) <= 0:
        parser.error(f'--size takes S or H W (positive), got {args.size}')
    return draw_dense_features(**vars(args), log=lambda s: print(s, flush=True))


if __name__ == '__main__':
    run_tool(main)
