"""GFLOPs of a PixPro config's online pass beside its backbone alone.

The paper gives 8.6 vs 8.2 GFLOPs for C5 (about 5 %)::

    python tools/analysis/get_flops.py \
        configs/selfsup/pixpro_r50_c5_8xb128-coslr-100e_in1k.py
    python tools/analysis/get_flops.py configs/selfsup/pixpro_r50_fpn_head.py

Counting: ``mmpixpro.analysis.flops`` (mmengine.analysis, one multiply-add =
one FLOP), per view and per image of two views.
"""

import argparse

from mmengine.config import DictAction

from mmpixpro.analysis import format_report, pixpro_flops
from mmpixpro.packaging import load_config
from mmpixpro.utils import register_all_modules


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='FLOPs of the PixPro online pass')
    parser.add_argument('config', help='config file, or mmpixpro::<path>')
    parser.add_argument(
        '--shape', type=int, nargs=2, default=[224, 224], metavar=('H', 'W')
    )
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules(init_default_scope=True)
    cfg = load_config(args.config, args.cfg_options)
    report = pixpro_flops(cfg, args.shape)
    print(format_report(report, args.config))
    return report


if __name__ == '__main__':
    main()
