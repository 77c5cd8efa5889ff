"""Mean ± std over the folds of semi-supervised COCO runs, per percentage: a
Markdown table, with ``--out PREFIX`` also PREFIX.csv and PREFIX.json
(mmpixpro.benchmarks.semi_coco.aggregate)::

    python tools/analysis/aggregate_folds.py --root work_dirs/semi --out semi
    python tools/analysis/aggregate_folds.py --work-dirs work_dirs/a-1@10 \\
        work_dirs/a-2@10
"""

import argparse
import sys

from mmpixpro.benchmarks.semi_coco import aggregate_folds


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--work-dirs', nargs='+', help='run directories')
    source.add_argument('--root', help='directory whose sub-directories are runs')
    parser.add_argument('--out', help='write OUT.csv and OUT.json as well')
    return aggregate_folds(**vars(parser.parse_args(argv)), log=print)


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, ValueError) as exc:
        print(f'aggregate_folds.py: error: {exc}', file=sys.stderr)
        sys.exit(2)
