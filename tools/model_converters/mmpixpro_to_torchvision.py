"""Export a PixPro backbone as a torchvision ResNet state dict.

    python tools/model_converters/mmpixpro_to_torchvision.py IN.pth OUT.pth [--target]

OUT is a plain ``{name: tensor}`` dict. The classifier (``fc``) is not
pre-trained and is not written: OUT loads with ``strict=True`` into
``torchvision.models.resnet50()`` whose ``fc`` is ``nn.Identity()`` (a
feature extractor), or with ``strict=False`` into a plain one, missing only
``fc.weight`` / ``fc.bias``. The export is checked that way before it is
written. ``--target`` exports the momentum (target) backbone instead.
"""

import argparse
import sys

import torch

from mmpixpro.benchmarks.backbone_export import backbone_state_dict, to_torchvision
from mmpixpro.benchmarks.transfer import TransferError, load_state_dict_file


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='mmpixpro checkpoint')
    parser.add_argument('dst', help='output torchvision state dict (.pth)')
    parser.add_argument(
        '--target',
        action='store_true',
        help='export target_net.module.backbone (the momentum encoder)',
    )
    return parser.parse_args(argv)


def check_torchvision(arch: str, state: dict) -> None:
    """Load ``state`` strictly into torchvision's ``arch`` without ``fc``."""
    import torchvision

    model = getattr(torchvision.models, arch)(weights=None)
    model.fc = torch.nn.Identity()
    model.load_state_dict(state, strict=True)


def main(argv=None) -> dict:
    args = parse_args(argv)
    prefix = 'target_net.module.backbone.' if args.target else 'backbone.'
    tensors = backbone_state_dict(load_state_dict_file(args.src), prefix)
    arch, state = to_torchvision(tensors)
    check_torchvision(arch, state)
    torch.save(state, args.dst)
    print(f'{len(state)} tensors of {prefix}* -> {args.dst} (torchvision {arch})')
    return state


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, KeyError, ValueError, TransferError) as exc:
        print(f'mmpixpro_to_torchvision.py: error: {exc}', file=sys.stderr)
        sys.exit(2)
