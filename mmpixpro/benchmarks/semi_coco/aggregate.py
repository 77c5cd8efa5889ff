"""Mean ± std over the folds of semi-supervised COCO runs, per percentage.

Each run directory is named after its split, ``*{fold}@{percent}*`` (e.g.
``mask-rcnn_r50_fpn_coco-1@10``).  Its metrics are the last line holding
``coco/bbox_mAP`` in the ``scalars.json`` that mmengine writes under
``{work_dir}/{timestamp}/vis_data/``; with several timestamp folders, the newest
(by name) that has such a line is used.  ``coco/segm_mAP`` is reported as well
when every fold of a percentage has it.

:func:`markdown_table` gives values ×100, one decimal, sample std with
``ddof=1``; :func:`write_outputs` writes ``PREFIX.csv`` and ``PREFIX.json``
with the same numbers on the metrics' own (0-1) scale.
"""

from __future__ import annotations

import csv
import json
import os
import os.path as osp
import re
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmpixpro.utils.atomic_file import atomic_open

from .split import format_percent

METRICS = ('coco/bbox_mAP', 'coco/segm_mAP')
KEY_METRIC = 'coco/bbox_mAP'
RUN_PATTERN = re.compile(r'(\d+)@([0-9.]+)')


def parse_run_name(work_dir: str) -> Optional[Tuple[int, float]]:
    """Fold and percentage of a run, from its directory name.

    Args:
        work_dir: The run directory.

    Returns:
        ``(fold, percent)`` from the last ``{fold}@{percent}`` in the name, or
        None when the name has none.
    """
    name = osp.basename(osp.normpath(work_dir))
    for fold, percent in reversed(RUN_PATTERN.findall(name)):
        try:
            return int(fold), float(percent.rstrip('.'))
        except ValueError:  # e.g. '1.2.3'
            continue
    return None


def find_scalars(work_dir: str) -> List[str]:
    """Every ``scalars.json`` under a run directory, oldest first.

    The paths are sorted by their parts relative to ``work_dir``, so timestamp
    folders (``20240101_120000``) come in chronological order.

    Args:
        work_dir: The run directory.

    Returns:
        Paths of the files.
    """
    found = []
    for root, _, files in os.walk(work_dir):
        if 'scalars.json' in files:
            found.append(osp.join(root, 'scalars.json'))
    return sorted(found, key=lambda p: osp.relpath(p, work_dir).split(os.sep))


def last_metrics(scalars_file: str) -> Optional[Dict[str, float]]:
    """The metrics of the last line holding ``coco/bbox_mAP`` in a file.

    Lines that are not JSON objects (e.g. one cut short by a crash) are
    skipped.

    Args:
        scalars_file: A ``scalars.json`` file (JSON lines).

    Returns:
        The :data:`METRICS` found in that line, or None if no line has
        ``coco/bbox_mAP``.
    """
    found = None
    with open(scalars_file, encoding='utf-8') as f:
        for line in f:
            if KEY_METRIC not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and KEY_METRIC in record:
                found = record
    if found is None:
        return None
    return {key: float(found[key]) for key in METRICS if key in found}


def find_metrics(work_dir: str) -> Tuple[str, Dict[str, float]]:
    """The newest ``scalars.json`` holding ``coco/bbox_mAP``, and its final
    metrics.

    Args:
        work_dir: The run directory.

    Returns:
        ``(path of the file, metrics)``.

    Raises:
        ValueError: No ``scalars.json`` under the directory has the metric.
    """
    for scalars_file in reversed(find_scalars(work_dir)):
        metrics = last_metrics(scalars_file)
        if metrics is not None:
            return scalars_file, metrics
    raise ValueError(
        f'no {KEY_METRIC} in any scalars.json under run directory {work_dir}'
    )


def read_run(work_dir: str) -> Dict[str, float]:
    """Final metrics of one run (those of :func:`find_metrics`).

    Raises:
        ValueError: No ``scalars.json`` under the directory has the metric.
    """
    return find_metrics(work_dir)[1]


def collect_runs(
    work_dirs: Optional[Sequence[str]] = None, root: Optional[str] = None
) -> List[Tuple[str, int, float]]:
    """Run directories with their fold and percentage.

    Args:
        work_dirs: Run directories given one by one; each name must hold
            ``{fold}@{percent}``.
        root: A directory whose sub-directories are the runs; those whose name
            has no ``{fold}@{percent}`` are skipped.

    Returns:
        ``(work_dir, fold, percent)`` triples.

    Raises:
        FileNotFoundError: A directory does not exist.
        ValueError: No runs found, a run name without ``{fold}@{percent}``, or
            two runs for the same fold and percentage.
    """
    runs = []
    if root is not None:
        if not osp.isdir(root):
            raise FileNotFoundError(f'root directory not found: {root}')
        for name in sorted(os.listdir(root)):
            path = osp.join(root, name)
            parsed = parse_run_name(name)
            if osp.isdir(path) and parsed is not None:
                runs.append((path, *parsed))
        if not runs:
            raise ValueError(
                f'no run directories named like *{{fold}}@{{percent}}* in {root}'
            )
    else:
        for path in work_dirs or ():
            if not osp.isdir(path):
                raise FileNotFoundError(f'run directory not found: {path}')
            parsed = parse_run_name(path)
            if parsed is None:
                raise ValueError(
                    f'run directory {path} is not named like *{{fold}}@{{percent}}*'
                )
            runs.append((path, *parsed))
        if not runs:
            raise ValueError('no run directories given')

    seen: Dict[Tuple[int, str], str] = {}
    for path, fold, percent in runs:
        key = (fold, format_percent(percent))
        if key in seen:
            raise ValueError(
                f'two runs for fold {fold} at {key[1]}%: {seen[key]} and {path}'
            )
        seen[key] = path
    return runs


def summarize(values: Sequence[float]) -> Dict[str, float]:
    """Mean and sample standard deviation.

    Args:
        values: One value per fold.

    Returns:
        ``{'mean': ..., 'std': ...}``; std uses ``ddof=1`` and is 0 for a single
        value.
    """
    array = np.asarray(values, dtype=np.float64)
    std = float(np.std(array, ddof=1)) if len(array) > 1 else 0.0
    return {'mean': float(np.mean(array)), 'std': std}


def aggregate(runs: Sequence[Tuple[str, int, float]]) -> Dict[str, Dict[str, Any]]:
    """Read every run and aggregate its folds per percentage.

    Args:
        runs: ``(work_dir, fold, percent)`` triples.

    Returns:
        Per percentage (canonical string, numeric order)::

            {'percent': 10.0, 'n': 2,
             'folds': [{'fold': 1, 'work_dir': ..., 'coco/bbox_mAP': ...}, ...],
             'coco/bbox_mAP': {'mean': ..., 'std': ...},
             'coco/segm_mAP': {'mean': ..., 'std': ...}}  # when all folds have it
    """
    groups: Dict[float, List[Dict[str, Any]]] = {}
    for work_dir, fold, percent in runs:
        entry = {'fold': fold, 'work_dir': work_dir, **read_run(work_dir)}
        groups.setdefault(percent, []).append(entry)

    result: Dict[str, Dict[str, Any]] = {}
    for percent in sorted(groups):
        folds = sorted(groups[percent], key=lambda e: e['fold'])
        row: Dict[str, Any] = {'percent': percent, 'n': len(folds), 'folds': folds}
        for metric in METRICS:
            values = [e[metric] for e in folds if metric in e]
            if len(values) == len(folds):
                row[metric] = summarize(values)
            elif values:
                print(
                    f'warning: {metric} is missing in some folds at '
                    f'{format_percent(percent)}%; it is left out',
                    file=sys.stderr,
                )
        result[format_percent(percent)] = row
    return result


def short_name(metric: str) -> str:
    """``'coco/bbox_mAP'`` -> ``'bbox_mAP'``."""
    return metric.split('/')[-1]


def markdown_table(result: Dict[str, Dict[str, Any]]) -> str:
    """The aggregate as a Markdown table (values ×100, one decimal).

    Args:
        result: Output of :func:`aggregate`.

    Returns:
        The table, one row per percentage.
    """
    metrics = [m for m in METRICS if any(m in row for row in result.values())]
    header = ['percent', 'folds'] + [short_name(m).replace('_', ' ') for m in metrics]
    lines = [
        '| ' + ' | '.join(header) + ' |',
        '|' + '|'.join('---' for _ in header) + '|',
    ]
    for label, row in result.items():
        cells = [label, str(row['n'])]
        for metric in metrics:
            if metric in row:
                stats = row[metric]
                cells.append(f'{stats["mean"] * 100:.1f} ± {stats["std"] * 100:.1f}')
            else:
                cells.append('-')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def write_outputs(prefix: str, result: Dict[str, Dict[str, Any]]) -> List[str]:
    """Write ``{prefix}.csv`` and ``{prefix}.json`` (each replaced whole:
    a reader never sees half a table).

    Args:
        prefix: Output path without extension.
        result: Output of :func:`aggregate`.

    Returns:
        The two paths.
    """
    parent = osp.dirname(prefix)
    if parent:
        os.makedirs(parent, exist_ok=True)
    csv_path, json_path = f'{prefix}.csv', f'{prefix}.json'
    columns = ['percent', 'n', 'folds']
    for metric in METRICS:
        columns += [f'{short_name(metric)}_mean', f'{short_name(metric)}_std']
    with atomic_open(csv_path, 'w', overwrite=True) as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for label, row in result.items():
            cells = [label, row['n'], ' '.join(str(e['fold']) for e in row['folds'])]
            for metric in METRICS:
                stats = row.get(metric)
                cells += (
                    [repr(stats['mean']), repr(stats['std'])] if stats else ['', '']
                )
            writer.writerow(cells)
    with atomic_open(json_path, 'w', overwrite=True) as f:
        json.dump(result, f, indent=2)
        f.write('\n')
    return [csv_path, json_path]


def aggregate_folds(
    work_dirs: Optional[Sequence[str]] = None,
    root: Optional[str] = None,
    out: Optional[str] = None,
    log: Optional[Callable[[str], None]] = None,
) -> Dict[str, Dict[str, Any]]:
    """Read, aggregate and (with ``out``) write the runs of :func:`collect_runs`.

    Args:
        work_dirs, root: See :func:`collect_runs`.
        out: Write ``{out}.csv`` and ``{out}.json`` as well.
        log: Called with the Markdown table and the written paths.

    Returns:
        The aggregate, as returned by :func:`aggregate`.

    Raises:
        FileNotFoundError: A given directory does not exist.
        ValueError: No runs found, or a run without metrics.
    """
    result = aggregate(collect_runs(work_dirs=work_dirs, root=root))
    say = log or (lambda line: None)
    say(markdown_table(result))
    if out:
        for path in write_outputs(out, result):
            say(f'wrote {path}')
    return result
