"""Write the image list of a folder tree for ``ImageFolder(ann_file=...)``: one
path per line, relative to the folder, sorted; with it no rank walks the tree
at start-up (a relative ``ann_file`` is read from under ``data_root``)::

    python tools/misc/make_file_list.py data/imagenet/train data/imagenet/train.txt
    python tools/train.py CONFIG --cfg-options \\
        train_dataloader.dataset.ann_file=../train.txt
"""

import argparse

from mmpixpro.datasets import IMG_EXTENSIONS
from mmpixpro.datasets.file_list import write_file_list


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('root', help='folder of images (walked recursively)')
    parser.add_argument('out_file', help='list file to write')
    parser.add_argument('--extensions', nargs='+', default=list(IMG_EXTENSIONS))
    args = parser.parse_args(argv)
    count = write_file_list(args.root, args.out_file, args.extensions)
    print(f'wrote {count} image paths (relative to {args.root}) to {args.out_file}')
    return count


if __name__ == '__main__':
    main()
