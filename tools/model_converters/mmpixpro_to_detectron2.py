"""Export a PixPro backbone as a detectron2 checkpoint (.pkl).

    python tools/model_converters/mmpixpro_to_detectron2.py IN.pth OUT.pkl [--target]

OUT is the format detectron2 reads for ``MODEL.WEIGHTS``: a plain pickle of
``{'model': {name: numpy array}, '__author__': 'mmpixpro',
'matching_heuristics': True}`` with detectron2's ResNet names (``stem.conv1``,
``stem.conv1.norm``, ``res2``..``res5``, ``convK.norm``, ``shortcut``,
``shortcut.norm``); see mmpixpro/benchmarks/backbone_export.py. Use it with
the authors' ``*_PixPro.yaml`` configs (RGB input, ImageNet mean / std,
``RESNETS.STRIDE_IN_1X1 False``). ``--target`` exports the momentum
backbone instead.
"""

import argparse
import pickle
import sys

from mmpixpro.benchmarks.backbone_export import backbone_state_dict, to_detectron2
from mmpixpro.benchmarks.transfer import TransferError, load_state_dict_file


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='mmpixpro checkpoint')
    parser.add_argument('dst', help='output detectron2 checkpoint (.pkl)')
    parser.add_argument(
        '--target',
        action='store_true',
        help='export target_net.module.backbone (the momentum encoder)',
    )
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    prefix = 'target_net.module.backbone.' if args.target else 'backbone.'
    tensors = backbone_state_dict(load_state_dict_file(args.src), prefix)
    d2 = to_detectron2(tensors)
    with open(args.dst, 'wb') as f:
        pickle.dump(d2, f)
    print(f'{len(d2["model"])} tensors of {prefix}* -> {args.dst} (detectron2 names)')
    return d2


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, KeyError, ValueError, TransferError) as exc:
        print(f'mmpixpro_to_detectron2.py: error: {exc}', file=sys.stderr)
        sys.exit(2)
