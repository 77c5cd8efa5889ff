"""Import a checkpoint of the authors' PixPro release into this project.

    python tools/model_converters/pixpro_official_to_mmpixpro.py \\
        IN.pth OUT.pth [--overwrite]

IN is a training checkpoint of the release or a published one; OUT is
``{'meta', 'state_dict'}`` in our names (mmpixpro.benchmarks.official_checkpoint),
so it fine-tunes through our benchmark configs and loads into the matching
pre-training config. IN is read with ``weights_only=True`` and only
``argparse.Namespace`` allowed besides: pickled code is refused; so is a
file with a module missing or incomplete, or two keys for one tensor.
OUT is never IN; an existing OUT is replaced only with ``--overwrite``; its
folder is created before the work; it appears whole or not at all.
"""

import argparse
import sys

from mmpixpro.benchmarks.official_checkpoint import (
    OfficialCheckpointError,
    import_official_checkpoint,
)


def say(line: str) -> None:
    print(line, flush=True)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help="checkpoint of the authors' release")
    parser.add_argument('dst', help='output checkpoint (mmpixpro names)')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace an existing output file'
    )
    args = parser.parse_args(argv)
    state, lines = import_official_checkpoint(
        args.src, args.dst, args.overwrite, log=say
    )
    print('\n'.join(lines))
    return state


if __name__ == '__main__':
    try:
        main()
    except (OSError, OfficialCheckpointError) as exc:
        print(f'pixpro_official_to_mmpixpro.py: error: {exc}', file=sys.stderr)
        sys.exit(2)
