"""Split COCO train2017 into labelled / unlabelled folds for semi-supervised
runs: byte-identical for one seed, nothing written on bad input
(mmpixpro.benchmarks.semi_coco.split)::

    python tools/misc/split_coco.py \\
        --ann-file data/coco/annotations/instances_train2017.json \\
        --out-dir data/coco/semi_anns --percents 1 2 5 10 --folds 5 [--seed 1]

The files are named after the input (``instances_train2017.1@10.json`` ...,
``instances_val2017.1@10.json`` for val2017); existing files are replaced
only with ``--overwrite``, the input never.
"""

import argparse
import sys

from mmpixpro.benchmarks.semi_coco.split import format_summary, split_coco


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        '--ann-file', default='data/coco/annotations/instances_train2017.json'
    )
    parser.add_argument('--out-dir', default='data/coco/semi_anns')
    parser.add_argument(
        '--percents', type=float, nargs='+', default=[1.0, 2.0, 5.0, 10.0]
    )
    parser.add_argument('--folds', type=int, default=5)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument(
        '--overwrite', action='store_true', help='replace existing split files'
    )
    written = split_coco(**vars(parser.parse_args(argv)))
    print(format_summary(written))
    return [path for path, _ in written]


if __name__ == '__main__':
    try:
        main()
    except (OSError, ValueError) as exc:
        print(f'split_coco.py: error: {exc}', file=sys.stderr)
        sys.exit(2)
