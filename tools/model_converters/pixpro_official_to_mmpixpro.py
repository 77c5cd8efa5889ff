"""Import a checkpoint of the authors' PixPro release into this project.

    python tools/model_converters/pixpro_official_to_mmpixpro.py IN.pth OUT.pth

IN is a training checkpoint of the release or a published one; OUT is
``{'meta', 'state_dict'}`` in our names (mmpixpro.benchmarks.official_checkpoint),
so it fine-tunes through our benchmark configs and loads into the matching
pre-training config. IN is read with ``weights_only=True`` and only
``argparse.Namespace`` allowed besides: pickled code is refused.
"""

import argparse
import sys

from mmpixpro.benchmarks.official_checkpoint import (
    OfficialCheckpointError,
    import_official_checkpoint,
)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help="checkpoint of the authors' release")
    parser.add_argument('dst', help='output checkpoint (mmpixpro names)')
    args = parser.parse_args(argv)
    state, lines = import_official_checkpoint(args.src, args.dst)
    print('\n'.join(lines))
    return state


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, OfficialCheckpointError) as exc:
        print(f'pixpro_official_to_mmpixpro.py: error: {exc}', file=sys.stderr)
        sys.exit(2)
