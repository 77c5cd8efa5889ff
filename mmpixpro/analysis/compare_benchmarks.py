"""Transfer results of several pre-trained checkpoints on several benchmarks
as one table, mean ± std over runs (seeds, folds), with Table 1's numbers
beside the rows the paper has.

A run is a fine-tuning work dir as the benchmark Runners leave it (through
tools/benchmarks/train.py, or mmdet's / mmseg's / mmpretrain's own
train.py):

- the config, dumped by mmengine as ``{work_dir}/{config name}.py``: its
  name is the benchmark (the configs of Table 1's columns are
  :data:`~.paper_table1.COLUMNS`);
- ``transfer_report.json``, written by the transfer hook: the pre-trained
  checkpoint and its layout (a run without one started from scratch);
- ``{work_dir}/{timestamp}/vis_data/scalars.json``, mmengine's JSON lines:
  the last line holding an evaluation (``pascal_voc/mAP``, ``coco/bbox_mAP``,
  ``mIoU`` or ``accuracy/top1``) in the newest such file is the run's result.

Runs of one checkpoint on one benchmark are aggregated: mean and sample
standard deviation (``ddof=1``; none for a single run), on the paper's scale
(AP ×100). A checkpoint is shown by its file name (without extension) or a
label given for it; a label that is a key of :data:`~.paper_table1.ROWS`
(``mocov2``, ``pixpro400``, ...) shows that row's name and its numbers.
Links in a work dir are not followed.
"""

import csv
import json
import os
import os.path as osp
import re
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from mmpixpro.utils.atomic_file import atomic_open

from .paper_table1 import COLUMNS, ROWS, column_of


class Family(NamedTuple):
    """Metrics that an evaluator logs: the key that marks an evaluation
    line, ``(logged name, shown name)`` pairs, and the factor to the
    paper's scale."""

    key: str
    metrics: Tuple[Tuple[str, str], ...]
    scale: float


FAMILIES = (
    Family(  # mmdet's VOCMetric (0-1)
        'pascal_voc/mAP',
        (
            ('pascal_voc/mAP', 'AP'),
            ('pascal_voc/AP50', 'AP50'),
            ('pascal_voc/AP75', 'AP75'),
        ),
        100.0,
    ),
    Family(  # mmdet's CocoMetric, boxes (0-1)
        'coco/bbox_mAP',
        (
            ('coco/bbox_mAP', 'AP'),
            ('coco/bbox_mAP_50', 'AP50'),
            ('coco/bbox_mAP_75', 'AP75'),
        ),
        100.0,
    ),
    Family('mIoU', (('mIoU', 'mIoU'),), 1.0),  # mmseg's IoUMetric (%)
    Family('accuracy/top1', (('accuracy/top1', 'top-1'),), 1.0),  # mmpretrain (%)
)
SCRATCH = 'from scratch'
CHECKPOINT_SUFFIX = re.compile(r'(\.pth|\.pt|\.pkl|\.tar|\.bin|\.ckpt)+$')


class Run(NamedTuple):
    """One fine-tuning run, read from its work dir."""

    work_dir: str
    benchmark: str  # the config's file stem
    checkpoint: Optional[str]  # None: from scratch
    layout: Optional[str]
    family: Family
    values: Tuple[float, ...]  # on the paper's scale, one per metric


def _entries(folder: str) -> List[str]:
    """The names in ``folder`` that are not links, sorted."""
    return sorted(n for n in os.listdir(folder) if not osp.islink(osp.join(folder, n)))


def _evaluation(scalars_file: str) -> Optional[Tuple[Family, Dict[str, float]]]:
    """The last evaluation line of a ``scalars.json``, with its family."""
    found = None
    with open(scalars_file, encoding='utf-8') as f:
        for line in f:
            try:
                record = json.loads(line)
            except ValueError:  # a line cut short
                continue
            if not isinstance(record, dict):
                continue
            for family in FAMILIES:
                if family.key in record:
                    found = (family, record)
                    break
    return found


def read_run(work_dir: str) -> Run:
    """The benchmark, checkpoint and final metrics of one work dir.

    Raises:
        ValueError: No config, several, or no evaluation in the work dir.
    """
    names = _entries(work_dir)
    configs = [
        n for n in names if n.endswith('.py') and osp.isfile(osp.join(work_dir, n))
    ]
    known = [n for n in configs if column_of(n[:-3]) is not None]
    if len(known) == 1 or len(configs) == 1:
        config = (known or configs)[0]
    else:
        raise ValueError(
            f'{work_dir}: cannot tell its benchmark: '
            + (f'several configs ({", ".join(configs)})' if configs else 'no config')
        )
    evaluation = None
    for name in reversed(names):  # timestamp folders, newest first
        scalars = osp.join(work_dir, name, 'vis_data', 'scalars.json')
        if osp.isfile(scalars) and not osp.islink(scalars):
            evaluation = _evaluation(scalars)
            if evaluation is not None:
                break
    if evaluation is None:
        raise ValueError(f'{work_dir}: no evaluation in any */vis_data/scalars.json')
    family, record = evaluation
    values = tuple(
        float(record[name]) * family.scale if name in record else float('nan')
        for name, _ in family.metrics
    )
    checkpoint = layout = None
    report_file = osp.join(work_dir, 'transfer_report.json')
    if osp.isfile(report_file) and not osp.islink(report_file):
        with open(report_file, encoding='utf-8') as f:
            report = json.load(f)
        checkpoint, layout = report.get('checkpoint'), report.get('layout')
    return Run(work_dir, config[:-3], checkpoint, layout, family, values)


def find_runs(paths: Sequence[str]) -> List[str]:
    """Work dirs: each path that is one (it holds a config), else its
    sub-folders that are.

    Raises:
        FileNotFoundError: A path does not exist.
        ValueError: A path holds no run.
    """
    runs = []
    for path in paths:
        if not osp.isdir(path):
            raise FileNotFoundError(f'work dir not found: {path}')
        if any(n.endswith('.py') for n in _entries(path)):
            runs.append(path)
            continue
        inside = [
            osp.join(path, n)
            for n in _entries(path)
            if osp.isdir(osp.join(path, n))
            and any(m.endswith('.py') for m in _entries(osp.join(path, n)))
        ]
        if not inside:
            raise ValueError(f'{path} is no work dir and holds none')
        runs += inside
    return runs


def checkpoint_stem(path: Optional[str]) -> str:
    """``'moco_v2_800ep_pretrain'`` for ``.../moco_v2_800ep_pretrain.pth.tar``."""
    if path is None:
        return SCRATCH
    return CHECKPOINT_SUFFIX.sub('', osp.basename(path))


def _label(path: Optional[str], labels: Dict[str, str]) -> str:
    if path is not None and path in labels:
        return labels[path]
    return labels.get(checkpoint_stem(path), checkpoint_stem(path))


def summarize(values: Sequence[float]) -> Tuple[float, Optional[float]]:
    """Mean and sample std (``ddof=1``; None for one value)."""
    array = np.asarray(values, dtype=np.float64)
    std = float(np.std(array, ddof=1)) if len(array) > 1 else None
    return float(np.mean(array)), std


def compare(runs: Sequence[Run], labels: Optional[Dict[str, str]] = None) -> List[dict]:
    """The runs aggregated per benchmark and checkpoint, in Table 1's order.

    Args:
        runs: From :func:`read_run`.
        labels: Checkpoint stem (or path) -> label; a label that is a key
            of :data:`ROWS` shows that row's name and Table 1's numbers.

    Returns:
        One dict per benchmark and checkpoint: ``benchmark`` (config stem),
        ``title``, ``column`` (Table 1's, or None), ``label``, ``row`` (Table
        1's, or None), ``checkpoint``, ``layout``, ``runs`` (work dirs),
        ``metrics`` (names), ``values`` (per metric, one per run), ``mean``,
        ``std`` (None for one run) and ``paper`` (Table 1's, or None).

    Raises:
        ValueError: Two checkpoints with one label on one benchmark, or runs
            of one benchmark that logged different metrics.
    """
    labels = dict(labels or {})
    groups: Dict[Tuple[str, str], List[Run]] = {}
    for run in runs:
        groups.setdefault((run.benchmark, _label(run.checkpoint, labels)), []).append(
            run
        )
    rows = []
    for (benchmark, label), members in groups.items():
        paths = sorted({str(r.checkpoint) for r in members})
        if len(paths) > 1:
            raise ValueError(
                f'{benchmark}: checkpoints {", ".join(paths)} are all labelled '
                f'{label!r}; give each its own label'
            )
        families = {r.family.key for r in members}
        if len(families) > 1:
            raise ValueError(f'{benchmark}: runs logged different metrics: {families}')
        family = members[0].family
        column = column_of(benchmark)
        row = label if label in ROWS else None
        values = [[r.values[i] for r in members] for i in range(len(family.metrics))]
        stats = [summarize(v) for v in values]
        paper = ROWS[row][1].get(column) if row and column else None
        rows.append(
            dict(
                benchmark=benchmark,
                title=COLUMNS[column].title if column else benchmark,
                column=column,
                label=ROWS[row][0] if row else label,
                row=row,
                checkpoint=members[0].checkpoint,
                layout=members[0].layout,
                runs=sorted(r.work_dir for r in members),
                metrics=[shown for _, shown in family.metrics],
                values=values,
                mean=[m for m, _ in stats],
                std=[s for _, s in stats],
                paper=list(paper) if paper else None,
            )
        )
    columns, row_keys = list(COLUMNS), list(ROWS)

    def order(entry):
        col = entry['column']
        return (
            (0, columns.index(col), '') if col else (1, 0, entry['benchmark']),
            (0, row_keys.index(entry['row'])) if entry['row'] else (1, 0),
            entry['label'],
        )

    return sorted(rows, key=order)


def _cell(mean: float, std: Optional[float]) -> str:
    return f'{mean:.1f}' if std is None else f'{mean:.1f} ± {std:.1f}'


def markdown_table(rows: Sequence[dict]) -> str:
    """One line per benchmark and checkpoint: runs, mean ± std per metric,
    Table 1's numbers where it has them (one decimal, the paper's scale)."""
    lines = [
        '| benchmark | pre-trained | layout | runs | metrics | mean ± std '
        '| paper (Table 1) |',
        '|---|---|---|---|---|---|---|',
    ]
    for row in rows:
        result = ' / '.join(_cell(m, s) for m, s in zip(row['mean'], row['std']))
        paper = ' / '.join(f'{p:.1f}' for p in row['paper']) if row['paper'] else '-'
        cells = [
            row['title'],
            row['label'],
            row['layout'] or '-',
            str(len(row['runs'])),
            ' / '.join(row['metrics']),
            result,
            paper,
        ]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def write_csv(path: str, rows: Sequence[dict]) -> None:
    """One line per benchmark, checkpoint and metric (replaced whole)."""
    with atomic_open(path, 'w', overwrite=True) as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                'benchmark',
                'pre-trained',
                'checkpoint',
                'layout',
                'runs',
                'metric',
                'mean',
                'std',
                'paper',
                'values',
            ]
        )
        for row in rows:
            for i, metric in enumerate(row['metrics']):
                std = row['std'][i]
                writer.writerow(
                    [
                        row['benchmark'],
                        row['label'],
                        row['checkpoint'] or '',
                        row['layout'] or '',
                        len(row['runs']),
                        metric,
                        repr(row['mean'][i]),
                        '' if std is None else repr(std),
                        '' if row['paper'] is None else repr(row['paper'][i]),
                        ' '.join(repr(v) for v in row['values'][i]),
                    ]
                )


def compare_benchmarks(
    work_dirs: Sequence[str],
    labels: Optional[Dict[str, str]] = None,
    out: Optional[str] = None,
    plot: Optional[str] = None,
    log: Optional[Callable[[str], None]] = None,
) -> List[dict]:
    """Read the runs under ``work_dirs``, aggregate them (:func:`compare`)
    and say the Markdown table; with ``out``, write ``{out}.md`` and
    ``{out}.csv``; with ``plot``, draw the figure
    (:func:`~.benchmark_plot.plot_comparison`) there.

    Raises:
        FileNotFoundError, ValueError: See :func:`find_runs`, :func:`read_run`
            and :func:`compare`.
    """
    say = log or (lambda line: None)
    rows = compare([read_run(w) for w in find_runs(work_dirs)], labels)
    table = markdown_table(rows)
    say(table)
    if out:
        parent = osp.dirname(out)
        if parent:
            os.makedirs(parent, exist_ok=True)
        with atomic_open(f'{out}.md', 'w', overwrite=True) as f:
            f.write(table + '\n')
        write_csv(f'{out}.csv', rows)
        say(f'wrote {out}.md and {out}.csv')
    if plot:
        from .benchmark_plot import plot_comparison

        plot_comparison(rows, plot)
        say(f'wrote {plot}')
    return rows


def parse_labels(items: Sequence[str]) -> Dict[str, Any]:
    """``['STEM=LABEL', ...]`` -> ``{STEM: LABEL}``.

    Raises:
        ValueError: An item without ``=``.
    """
    labels = {}
    for item in items:
        key, sep, value = item.partition('=')
        if not sep or not key or not value:
            raise ValueError(f'--label takes CHECKPOINT=LABEL, got {item!r}')
        labels[key] = value
    return labels
