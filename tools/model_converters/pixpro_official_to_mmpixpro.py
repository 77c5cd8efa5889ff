"""Import a checkpoint of the authors' PixPro release into this project.

    python tools/model_converters/pixpro_official_to_mmpixpro.py IN.pth OUT.pth

IN is a training checkpoint of the release (``{'model', 'opt', 'optimizer',
'scheduler', 'epoch'[, 'amp']}``) or a published one (``{'model'}``). OUT is
``{'meta', 'state_dict'}`` in our names (backbone, momentum backbone,
projectors, PPM transform, instance branch: see
mmpixpro/benchmarks/official_checkpoint.py), so it fine-tunes through our
benchmark configs (``tools/benchmarks/train.py CONFIG OUT.pth``) and loads
into the matching pre-training config. IN is read with ``weights_only=True``
and only ``argparse.Namespace`` allowed besides: pickled code is refused.
"""

import argparse
import os.path as osp
import sys
from collections import Counter

import torch

from mmpixpro.benchmarks.official_checkpoint import (
    OfficialCheckpointError,
    convert_state_dict,
    load_official_checkpoint,
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help="checkpoint of the authors' release")
    parser.add_argument('dst', help='output checkpoint (mmpixpro names)')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    model, meta = load_official_checkpoint(args.src)
    state = convert_state_dict(model)
    if osp.dirname(args.dst):
        import os

        os.makedirs(osp.dirname(args.dst), exist_ok=True)
    torch.save({'meta': meta, 'state_dict': state}, args.dst)
    groups = Counter(
        '.'.join(k.split('.')[:3]) if k.startswith('target_net') else k.split('.')[0]
        for k in state
    )
    print(f'{len(state)} tensors written to {args.dst}:')
    for group, count in groups.items():
        print(f'  {group + ".*":<40}{count:>5}')
    return state


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, OfficialCheckpointError) as exc:
        print(f'pixpro_official_to_mmpixpro.py: error: {exc}', file=sys.stderr)
        sys.exit(2)
