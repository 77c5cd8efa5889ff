"""Print the whole merged config (all ``_base_`` files applied), as mmpretrain's::

    python tools/misc/print_config.py configs/selfsup/pixpro_r50_fpn_head.py
    python tools/misc/print_config.py mmpixpro::selfsup/pixpro_r50_fpn_head.py \\
        --cfg-options model.head.pos_threshold=0.5
    python tools/misc/print_config.py pixpro_r50_fpn_head   # a config name
    mim run mmpixpro print_config mmpixpro::selfsup/pixpro_r50_fpn_head.py

``--smoke [ITERS]`` prints a benchmark config as ``tools/benchmarks/train.py
--smoke`` runs it (mmpixpro.benchmarks.smoke), a file that the downstream
project's own train.py runs as it is.
"""

import argparse

from mmengine.config import DictAction

from mmpixpro.benchmarks.smoke import add_smoke_arg, smoke_config
from mmpixpro.packaging import load_config
from mmpixpro.utils.cli import add_debug_arg, run_tool


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config', help='a file, mmpixpro::<path> or a config name')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = add_debug_arg(add_smoke_arg(parser)).parse_args(argv)
    cfg = load_config(args.config)
    if args.smoke is not None:
        smoke_config(cfg, args.smoke)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    print(cfg.pretty_text)


if __name__ == '__main__':
    run_tool(main)
