"""GFLOPs of a PixPro config's online pass beside its backbone alone, per
view and per image of two views (mmpixpro.analysis.flops: mmengine.analysis,
one multiply-add = one FLOP); the paper gives 8.6 vs 8.2 for C5::

    python tools/analysis/get_flops.py configs/selfsup/pixpro_r50_fpn_head.py
"""

import argparse

from mmengine.config import DictAction

from mmpixpro.analysis import format_report, pixpro_flops
from mmpixpro.packaging import load_config
from mmpixpro.utils import register_all_modules
from mmpixpro.utils.cli import add_debug_arg, run_tool


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config', help='a file, mmpixpro::<path> or a config name')
    parser.add_argument('--shape', type=int, nargs=2, default=[224, 224])
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = add_debug_arg(parser).parse_args(argv)
    register_all_modules(init_default_scope=True)
    report = pixpro_flops(load_config(args.config, args.cfg_options), args.shape)
    print(format_report(report, args.config))
    return report


if __name__ == '__main__':
    run_tool(main)
