"""Write the image list of a folder tree for ``ImageFolder(ann_file=...)``: one
path per line, relative to the folder, sorted; with it no rank walks the tree
at start-up (a relative ``ann_file`` is read from under ``data_root``)::

    python tools/misc/make_file_list.py data/imagenet/train data/imagenet/train.txt
    python tools/train.py CONFIG --cfg-options \\
        train_dataloader.dataset.ann_file=../train.txt

The walk is the dataset's (hidden files and folders skipped, links followed,
a link loop refused); a name that is not valid UTF-8 is written as its bytes,
as the file system has it. The list appears whole or not at all: an existing
one is replaced only with ``--overwrite`` and survives any failure.
"""

import argparse
import sys

from mmengine.utils import ProgressBar

from mmpixpro.datasets import IMG_EXTENSIONS
from mmpixpro.datasets.file_list import write_file_list


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('root', help='folder of images (walked recursively)')
    parser.add_argument('out_file', help='list file to write')
    parser.add_argument('--extensions', nargs='+', default=list(IMG_EXTENSIONS))
    parser.add_argument(
        '--overwrite', action='store_true', help='replace an existing list file'
    )
    args = parser.parse_args(argv)
    print(f'listing the images under {args.root}', flush=True)
    bar = ProgressBar(file=sys.stderr)  # images found so far, and the rate
    count = write_file_list(
        args.root, args.out_file, args.extensions, args.overwrite, bar.update
    )
    sys.stderr.write('\n')
    print(f'wrote {count} image paths (relative to {args.root}) to {args.out_file}')
    return count


if __name__ == '__main__':
    try:
        main()
    except (OSError, ValueError) as exc:
        print(f'\nmake_file_list.py: error: {exc}', file=sys.stderr)
        sys.exit(2)
