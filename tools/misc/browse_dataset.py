"""Draw a config's two views and their positive pixel pairs, one PNG per image
(mmpixpro.visualization.browse): the original with both crop boxes (view 1
red, view 2 blue), the two views enlarged with the cells of the chosen level,
and a sample of the positive pairs of the pair rule (the config's T): one per
cell of view 1, at most --max-lines, each a thin line in its own colour from
its cell in view 1 to its cell in view 2::

    python tools/misc/browse_dataset.py \
        configs/selfsup/pixpro_r18_c5_1xb4-coslr-40e_demo.py
    python tools/misc/browse_dataset.py --level P3 \
        configs/selfsup/pixpro_r50_fcos-fpn-head_8xb128-coslr-100e_in1k.py
    python tools/misc/browse_dataset.py CONFIG --num 8 --threshold 1.4 --output-dir DIR
    mim run mmpixpro browse_dataset \
        mmpixpro::selfsup/pixpro_r50_c5_8xb128-coslr-100e_in1k.py
"""

import argparse

from mmengine.config import DictAction

from mmpixpro.packaging import load_config
from mmpixpro.utils import register_all_modules
from mmpixpro.utils.cli import add_debug_arg, run_tool
from mmpixpro.visualization import LEVEL_STRIDES, browse_dataset
from mmpixpro.visualization.view_pairs import MAX_LINES, PANEL


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config', help='a file, mmpixpro::<path> or a config name')
    parser.add_argument('--output-dir', default='work_dirs/browse_dataset')
    parser.add_argument('--num', type=int, default=4, help='number of images')
    parser.add_argument('--level', default='C5', choices=list(LEVEL_STRIDES))
    parser.add_argument('--grid', type=int, nargs=2, help='H W cells, not --level')
    parser.add_argument('--threshold', type=float, help="T (default: the config's)")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--panel', type=int, default=PANEL, help='view panel height in pixels'
    )
    parser.add_argument(
        '--max-lines',
        type=int,
        default=MAX_LINES,
        help='pairs drawn at most (one per cell of view 1)',
    )
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = add_debug_arg(parser).parse_args(argv)
    register_all_modules(init_default_scope=True)
    cfg = load_config(args.config, args.cfg_options)
    drawn = browse_dataset(
        cfg,
        args.output_dir,
        args.num,
        args.level,
        args.grid,
        args.threshold,
        seed=args.seed,
        panel=args.panel,
        max_lines=args.max_lines,
    )
    for path, picture, _ in drawn:
        print(
            f'{path}: {len(picture.pairs)} positive pairs, {len(picture.drawn)} '
            f'drawn ({picture.title})'
        )
    return drawn


if __name__ == '__main__':
    run_tool(main)
