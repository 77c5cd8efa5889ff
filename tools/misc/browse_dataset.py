"""Draw a config's two views and their positive pixel pairs, one PNG per image.

Each picture: the original image with both crop boxes (view 1 red, view 2
blue; a flipped view is marked), the two augmented views side by side with
the cells of the chosen level, and every positive pair of the pair rule
(``pixel_pair_mask``, the config's T) joined by a green line; the title gives
their count. Use it to check T and the crop settings::

    python tools/misc/browse_dataset.py configs/selfsup/pixpro_r50_fpn_head.py
    python tools/misc/browse_dataset.py CONFIG --level P3 --num 8 --output-dir DIR
    python tools/misc/browse_dataset.py CONFIG --threshold 1.4
"""

import argparse

from mmengine.config import DictAction

from mmpixpro.packaging import load_config
from mmpixpro.utils import register_all_modules
from mmpixpro.visualization import LEVEL_STRIDES, browse_dataset


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='draw views and positive pairs')
    parser.add_argument('config', help='config file, or mmpixpro::<path>')
    parser.add_argument('--output-dir', default='work_dirs/browse_dataset')
    parser.add_argument('--num', type=int, default=4, help='number of images')
    parser.add_argument('--level', default='C5', choices=list(LEVEL_STRIDES))
    parser.add_argument(
        '--grid', type=int, nargs=2, metavar=('H', 'W'), help='cells instead of --level'
    )
    parser.add_argument('--threshold', type=float, help="T (default: the config's)")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None) -> list:
    args = parse_args(argv)
    register_all_modules(init_default_scope=True)
    cfg = load_config(args.config, args.cfg_options)
    drawn = browse_dataset(
        cfg,
        args.output_dir,
        num_images=args.num,
        level=args.level,
        grid=args.grid,
        threshold=args.threshold,
        seed=args.seed,
    )
    for path, picture, _ in drawn:
        print(f'{path}: {len(picture.pairs)} positive pairs ({picture.title})')
    return drawn


if __name__ == '__main__':
    main()
