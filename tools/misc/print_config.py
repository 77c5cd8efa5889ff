"""Print the whole merged config (all ``_base_`` files applied), as mmpretrain's::

    python tools/misc/print_config.py configs/selfsup/pixpro_r50_fpn_head.py
    python tools/misc/print_config.py mmpixpro::selfsup/pixpro_r50_fpn_head.py \\
        --cfg-options model.head.pos_threshold=0.5
    mim run mmpixpro print_config mmpixpro::selfsup/pixpro_r50_fpn_head.py
"""

import argparse

from mmengine.config import DictAction

from mmpixpro.packaging import load_config


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config', help='config file, or mmpixpro::<path>')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    print(load_config(args.config, args.cfg_options).pretty_text)


if __name__ == '__main__':
    main()
