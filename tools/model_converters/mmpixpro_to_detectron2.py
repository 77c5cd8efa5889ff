"""Export a PixPro backbone as a detectron2 checkpoint (.pkl).

    python tools/model_converters/mmpixpro_to_detectron2.py \\
        IN.pth OUT.pkl [--target] [--overwrite]

OUT is the plain pickle detectron2 reads for ``MODEL.WEIGHTS``, with
detectron2's ResNet names (mmpixpro.benchmarks.backbone_export); use it with
the authors' ``*_PixPro.yaml`` configs (RGB input, ImageNet mean / std,
``RESNETS.STRIDE_IN_1X1 False``). ``--target`` exports the momentum backbone.

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
    parser.add_argument('dst', help='output detectron2 checkpoint (.pkl)')
    parser.add_argument('--target', action='store_true', help='momentum backbone')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace an existing output file'
    )
    args = parser.parse_args(argv)
    d2, done = export_backbone(
        args.src, args.dst, 'detectron2', args.target, args.overwrite, log=say
    )
    print(done)
    return d2


if __name__ == '__main__':
    try:
        main()
    except (OSError, KeyError, ValueError, TransferError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) else exc
        print(f'mmpixpro_to_detectron2.py: error: {message}', file=sys.stderr)
        sys.exit(2)
