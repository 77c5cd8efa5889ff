"""Export a PixPro backbone as a torchvision ResNet state dict.

    python tools/model_converters/mmpixpro_to_torchvision.py \\
        IN.pth OUT.pth [--target] [--overwrite]

OUT is a plain ``{name: tensor}`` dict without the classifier (``fc``, not
pre-trained): it loads with ``strict=True`` into ``torchvision.models.resnet50()``
whose ``fc`` is ``nn.Identity()``, as the export is checked before it is
written (mmpixpro.benchmarks.backbone_export). ``--target`` exports the
momentum (target) backbone instead.

OUT is never IN; an existing OUT is replaced only with ``--overwrite``; its
folder is created before the work; it appears whole or not at all (written
to a temporary file next to it, then renamed).
"""

import argparse
import sys

from mmpixpro.benchmarks.backbone_export import export_backbone
from mmpixpro.benchmarks.transfer import TransferError


def say(line: str) -> None:
    print(line, flush=True)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='mmpixpro checkpoint')
    parser.add_argument('dst', help='output torchvision state dict (.pth)')
    parser.add_argument('--target', action='store_true', help='momentum backbone')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace an existing output file'
    )
    args = parser.parse_args(argv)
    state, done = export_backbone(
        args.src, args.dst, 'torchvision', args.target, args.overwrite, log=say
    )
    print(done)
    return state


if __name__ == '__main__':
    try:
        main()
    except (OSError, KeyError, ValueError, TransferError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) else exc
        print(f'mmpixpro_to_torchvision.py: error: {message}', file=sys.stderr)
        sys.exit(2)
