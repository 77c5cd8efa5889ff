"""Semi-supervised COCO (Table 6): every fold x percentage, finished runs
skipped, then mean ± std (mmpixpro.benchmarks.semi_coco.folds)::

    python tools/benchmarks/semi_coco.py CHECKPOINT --percents 1 10 \\
        --folds 1 2 3 4 5 --gpus 8 --work-root work_dirs/semi_coco

A run counts as finished only for the same checkpoint (by content), config,
fold file, GPU count and options (``fold_run.json`` in its folder); give
each checkpoint its own ``--work-root`` to keep the results of several.
``--gpus`` defaults to the protocol's 8 (8 x 2 images); with fewer, add
``--auto-scale-lr`` to scale the learning rate with the total batch.
"""

import argparse
import os.path as osp
import sys

from mmpixpro.benchmarks.semi_coco import semi_coco

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_TEMPLATE = osp.join(
    osp.dirname(TOOLS),
    'configs/benchmarks/mmdet/semi_coco',
    'mask-rcnn_r50_fpn_8xb2-ms-12e_coco-{percent}pct_paper-arch.py',
)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('checkpoint', help='PixPro checkpoint to fine-tune')
    parser.add_argument('--percents', nargs='+', type=float, default=[1.0, 10.0])
    parser.add_argument('--folds', nargs='+', type=int, default=[1, 2, 3, 4, 5])
    parser.add_argument(
        '--gpus',
        type=int,
        default=None,
        help="per run (torchrun if > 1); default: the protocol's 8",
    )
    parser.add_argument(
        '--auto-scale-lr', action='store_true', help='lr scaled with the total batch'
    )
    parser.add_argument('--work-root', default='work_dirs/semi_coco')
    parser.add_argument('--ann-dir', default='semi_anns', help='under data_root')
    parser.add_argument('--config-template', default=CONFIG_TEMPLATE, help='{percent}')
    parser.add_argument('--cfg-options', nargs='+', default=[], help='for every run')
    parser.add_argument('--force', action='store_true', help='rerun finished runs')
    parser.add_argument('--dry-run', action='store_true', help='print the commands')
    args = vars(parser.parse_args(argv))
    return semi_coco(**args, tools_dir=TOOLS, log=lambda s: print(s, flush=True))


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, RuntimeError, ValueError) as exc:
        print(f'semi_coco.py: error: {exc}', file=sys.stderr)
        sys.exit(2)
