"""Export a PixPro backbone as a torchvision ResNet state dict.

    python tools/model_converters/mmpixpro_to_torchvision.py IN.pth OUT.pth [--target]

OUT is a plain ``{name: tensor}`` dict without the classifier (``fc``, not
pre-trained): it loads with ``strict=True`` into ``torchvision.models.resnet50()``
whose ``fc`` is ``nn.Identity()``, as the export is checked before it is
written (mmpixpro.benchmarks.backbone_export). ``--target`` exports the
momentum (target) backbone instead.
"""

import argparse
import sys

from mmpixpro.benchmarks.backbone_export import export_backbone
from mmpixpro.benchmarks.transfer import TransferError


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='mmpixpro checkpoint')
    parser.add_argument('dst', help='output torchvision state dict (.pth)')
    parser.add_argument('--target', action='store_true', help='momentum backbone')
    args = parser.parse_args(argv)
    state, done = export_backbone(args.src, args.dst, 'torchvision', args.target)
    print(done)
    return state


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, KeyError, ValueError, TransferError) as exc:
        print(f'mmpixpro_to_torchvision.py: error: {exc}', file=sys.stderr)
        sys.exit(2)
