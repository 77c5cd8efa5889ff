"""Draw a config's two views and their positive pixel pairs, one PNG per image
(mmpixpro.visualization.browse): the original with both crop boxes (view 1
red, view 2 blue), the two views with the cells of the chosen level, and every
positive pair of the pair rule (the config's T) joined by a green line::

    python tools/misc/browse_dataset.py configs/selfsup/pixpro_r50_fpn_head.py
    python tools/misc/browse_dataset.py CONFIG --level P3 --num 8 --output-dir DIR
    python tools/misc/browse_dataset.py CONFIG --threshold 1.4
"""

import argparse

from mmengine.config import DictAction

from mmpixpro.packaging import load_config
from mmpixpro.utils import register_all_modules
from mmpixpro.visualization import LEVEL_STRIDES, browse_dataset


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config', help='config file, or mmpixpro::<path>')
    parser.add_argument('--output-dir', default='work_dirs/browse_dataset')
    parser.add_argument('--num', type=int, default=4, help='number of images')
    parser.add_argument('--level', default='C5', choices=list(LEVEL_STRIDES))
    parser.add_argument('--grid', type=int, nargs=2, help='H W cells, not --level')
    parser.add_argument('--threshold', type=float, help="T (default: the config's)")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
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
    )
    for path, picture, _ in drawn:
        print(f'{path}: {len(picture.pairs)} positive pairs ({picture.title})')
    return drawn


if __name__ == '__main__':
    main()
