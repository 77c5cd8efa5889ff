"""Transfer results of several pre-trained checkpoints on several benchmarks
as one table (mean ± std over seeds or folds, Table 1's numbers beside its
rows), as Markdown and CSV, and a figure (mmpixpro.analysis.compare_benchmarks)::

    python tools/analysis/compare_benchmarks.py WORK_DIR [WORK_DIR ...] \\
        [--label CHECKPOINT=LABEL ...] [--out PREFIX] [--plot FIGURE.png]

A WORK_DIR is a fine-tuning work dir, or a folder of them. CHECKPOINT is a
checkpoint's file name without extension (or its path); a LABEL that is a
row of Table 1 (scratch, supervised, moco, simclr, mocov2, infomin200,
infomin800, pixpro100, pixpro400) brings the paper's numbers.
"""

import argparse
import sys

from mmpixpro.analysis.compare_benchmarks import compare_benchmarks, parse_labels


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('work_dirs', nargs='+', metavar='WORK_DIR')
    parser.add_argument(
        '--label', action='append', default=[], metavar='CHECKPOINT=LABEL'
    )
    parser.add_argument('--out', help='write OUT.md and OUT.csv')
    parser.add_argument('--plot', help='draw the figure into this file (.png, .pdf)')
    args = parser.parse_args(argv)
    return compare_benchmarks(
        args.work_dirs,
        labels=parse_labels(args.label),
        out=args.out,
        plot=args.plot,
        log=print,
    )


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, ValueError) as exc:
        print(f'compare_benchmarks.py: error: {exc}', file=sys.stderr)
        sys.exit(2)
