"""Labelled / unlabelled folds of COCO train2017 for semi-supervised runs.

For every fold (numbered from 1) and every percentage, a labelled subset of the
images is drawn without replacement, and the remaining images form its
unlabelled complement::

    {out_dir}/instances_train2017.{fold}@{percent}.json
    {out_dir}/instances_train2017.{fold}@{percent}-unlabeled.json

Each subset keeps exactly the annotations of its images; every other top-level
entry (``categories``, ``info``, ``licenses``, ...) is copied unchanged.  Each
fold's draw depends only on ``(seed, fold, percent)``, so the same call gives
byte-identical files.

Everything is validated and every subset is built before anything is written;
files are first written to temporary files in the output directory and only
renamed into place (``os.replace``) once all of them were written, so a failed
run leaves no output behind.
"""

from __future__ import annotations

import json
import os
import os.path as osp
import sys
import tempfile
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

PREFIX = 'instances_train2017'


def _progress(
    iterable: Iterable, total: Optional[int] = None, desc: str = ''
) -> Iterator:
    """Wrap ``iterable`` in a tqdm progress bar when tqdm is installed.

    Args:
        iterable: The items to iterate over.
        total: Number of items, for iterables without ``len``.
        desc: Label shown in front of the bar.

    Returns:
        An iterator over the same items (shown on stderr when it is a terminal).
    """
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is an optional nicety
        return iter(iterable)
    return iter(
        tqdm(
            iterable, total=total, desc=desc, leave=False, disable=None, file=sys.stderr
        )
    )


def format_percent(percent: float) -> str:
    """Canonical spelling of a percentage in file names.

    Args:
        percent: The percentage, e.g. ``1.0``, ``10`` or ``0.5``.

    Returns:
        ``'1'`` for 1 or 1.0, ``'10'`` for 10, ``'0.5'`` for 0.5.
    """
    return '{:g}'.format(percent)


def output_names(fold: int, percent: float) -> Tuple[str, str]:
    """File names of the labelled and unlabelled subsets of one split.

    Args:
        fold: Fold number, starting at 1.
        percent: Percentage of labelled images.

    Returns:
        ``(labelled_name, unlabelled_name)``.
    """
    stem = f'{PREFIX}.{fold}@{format_percent(percent)}'
    return f'{stem}.json', f'{stem}-unlabeled.json'


def num_labelled(num_images: int, percent: float) -> int:
    """Number of labelled images drawn for ``percent`` of ``num_images``.

    Args:
        num_images: Number of images in the full set.
        percent: Percentage of labelled images, in (0, 100).

    Returns:
        ``round(num_images * percent / 100)``, but at least 1.
    """
    return max(1, int(round(num_images * percent / 100)))


def fold_rng(seed: int, fold: int, percent: float) -> np.random.Generator:
    """Random generator of one split, derived from ``(seed, fold, percent)``.

    Args:
        seed: The user's seed (non-negative).
        fold: Fold number, starting at 1.
        percent: Percentage of labelled images.

    Returns:
        A numpy generator independent of the other splits.
    """
    return np.random.default_rng([seed, fold, int(round(percent * 1000))])


def load_coco(ann_file: str) -> Dict[str, Any]:
    """Read and check a COCO instances file.

    Args:
        ann_file: Path of the json file.

    Returns:
        The parsed json.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: The file is not valid JSON, lacks ``images`` or
            ``annotations``, or has images without (unique) ids or annotations
            without ``image_id``.
    """
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'annotation file not found: {ann_file}')
    try:
        with open(ann_file, encoding='utf-8') as f:
            data = json.load(f)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ValueError(f'{ann_file} is not a valid JSON file: {exc}') from None
    if not isinstance(data, dict):
        raise ValueError(f'{ann_file} is not a COCO file: its top level is not a dict')
    for key in ('images', 'annotations'):
        if not isinstance(data.get(key), list):
            raise ValueError(f'{ann_file} is not a COCO file: it has no "{key}" list')
    ids = set()
    for image in data['images']:
        if not isinstance(image, dict) or 'id' not in image:
            raise ValueError(f'{ann_file}: an entry of "images" has no "id"')
        if image['id'] in ids:
            raise ValueError(f'{ann_file}: image id {image["id"]!r} is repeated')
        ids.add(image['id'])
    for ann in data['annotations']:
        if not isinstance(ann, dict) or 'image_id' not in ann:
            raise ValueError(f'{ann_file}: an entry of "annotations" has no "image_id"')
    return data


def check_options(percents: Sequence[float], folds: int, seed: int) -> None:
    """Check the split settings before the annotation file is read.

    Args:
        percents: Requested percentages.
        folds: Requested number of folds.
        seed: Requested seed.

    Raises:
        ValueError: No percentage, a percentage outside (0, 100), ``folds < 1``
            or a negative seed.
    """
    if not percents:
        raise ValueError('no percentage given (--percents)')
    for percent in percents:
        if not 0 < percent < 100:
            raise ValueError(
                f'percentage must be > 0 and < 100, got {format_percent(percent)}'
            )
    if folds < 1:
        raise ValueError(f'--folds must be at least 1, got {folds}')
    if seed < 0:
        raise ValueError(f'--seed must be non-negative, got {seed}')


def check_counts(ann_file: str, num_images: int, percents: Sequence[float]) -> None:
    """Check that every labelled subset can be drawn from the images.

    Args:
        ann_file: Path of the annotation file (for the messages).
        num_images: Number of images in it.
        percents: Requested percentages.

    Raises:
        ValueError: The file has no images, or a percentage asks for more
            labelled images than exist.
    """
    if num_images == 0:
        raise ValueError(f'{ann_file} has no images to split')
    for percent in percents:
        count = num_labelled(num_images, percent)
        if count > num_images:
            raise ValueError(
                f'{format_percent(percent)}% asks for {count} labelled images '
                f'but {ann_file} has only {num_images}'
            )


def annotation_image_index(data: Dict[str, Any]) -> np.ndarray:
    """Index (in ``images``) of each annotation's image, -1 for unknown images.

    Args:
        data: The parsed COCO file.

    Returns:
        An int64 array with one entry per annotation.
    """
    position = {image['id']: i for i, image in enumerate(data['images'])}
    annotations = data['annotations']
    index = np.empty(len(annotations), dtype=np.int64)
    for i, ann in enumerate(
        _progress(annotations, len(annotations), 'grouping annotations')
    ):
        index[i] = position.get(ann['image_id'], -1)
    return index


def subset(
    data: Dict[str, Any], image_mask: np.ndarray, ann_mask: np.ndarray
) -> Dict[str, Any]:
    """A COCO dict with the selected images and annotations.

    Args:
        data: The parsed COCO file.
        image_mask: Boolean mask over ``images``.
        ann_mask: Boolean mask over ``annotations``.

    Returns:
        A new dict in the key order of ``data``; entries other than ``images``
        and ``annotations`` are the original objects.
    """
    out = dict(data)
    out['images'] = [data['images'][i] for i in np.flatnonzero(image_mask)]
    out['annotations'] = [data['annotations'][i] for i in np.flatnonzero(ann_mask)]
    return out


def build_splits(
    data: Dict[str, Any],
    ann_index: np.ndarray,
    percents: Sequence[float],
    folds: int,
    seed: int,
) -> List[Tuple[str, Dict[str, Any]]]:
    """Draw every labelled subset and its unlabelled complement in memory.

    Args:
        data: The parsed (and checked) COCO file.
        ann_index: Image index of each annotation, from
            :func:`annotation_image_index`.
        percents: Percentages of labelled images (already de-duplicated).
        folds: Number of folds.
        seed: Base seed.

    Returns:
        ``(file_name, coco_dict)`` pairs, labelled then unlabelled for each
        fold and percentage.
    """
    num_images = len(data['images'])
    known = ann_index >= 0
    jobs = [(fold, p) for fold in range(1, folds + 1) for p in percents]
    splits = []
    for fold, percent in _progress(jobs, len(jobs), 'drawing subsets'):
        rng = fold_rng(seed, fold, percent)
        chosen = rng.choice(
            num_images, size=num_labelled(num_images, percent), replace=False
        )
        labelled = np.zeros(num_images, dtype=bool)
        labelled[chosen] = True
        ann_labelled = np.zeros(len(ann_index), dtype=bool)
        ann_labelled[known] = labelled[ann_index[known]]
        ann_unlabelled = known & ~ann_labelled
        name, unlabelled_name = output_names(fold, percent)
        splits.append((name, subset(data, labelled, ann_labelled)))
        splits.append((unlabelled_name, subset(data, ~labelled, ann_unlabelled)))
    return splits


def write_all(out_dir: str, splits: Sequence[Tuple[str, Dict[str, Any]]]) -> List[str]:
    """Write every split, atomically and all-or-nothing.

    Each file goes to a temporary file in ``out_dir`` first; only when all of
    them are written are they renamed to their final names.  On failure the
    temporary files are removed.

    Args:
        out_dir: Output directory (created if needed).
        splits: ``(file_name, coco_dict)`` pairs.

    Returns:
        Paths of the written files.
    """
    os.makedirs(out_dir, exist_ok=True)
    pending: List[Tuple[str, str]] = []
    try:
        for name, content in _progress(splits, len(splits), 'writing'):
            fd, tmp = tempfile.mkstemp(prefix=f'.{name}.', suffix='.tmp', dir=out_dir)
            pending.append((tmp, osp.join(out_dir, name)))
            with os.fdopen(fd, 'w', encoding='utf-8') as f:
                json.dump(content, f, separators=(',', ':'))
        for tmp, final in pending:
            os.replace(tmp, final)
    except BaseException:
        for tmp, _ in pending:
            if osp.exists(tmp):
                os.remove(tmp)
        raise
    return [final for _, final in pending]


def format_summary(splits: Sequence[Tuple[str, Dict[str, Any]]]) -> str:
    """One line per file: name, number of images, number of annotations.

    Args:
        splits: ``(path, coco_dict)`` pairs, as :func:`split_coco` returns.
    """
    names = [osp.basename(path) for path, _ in splits]
    width = max(len('file'), *(len(name) for name in names))
    lines = [f'{"file":<{width}}  {"images":>8}  {"annotations":>11}']
    for name, (_, content) in zip(names, splits):
        lines.append(
            f'{name:<{width}}  {len(content["images"]):>8}  '
            f'{len(content["annotations"]):>11}'
        )
    return '\n'.join(lines)


def split_coco(
    ann_file: str,
    out_dir: str,
    percents: Sequence[float] = (1.0, 2.0, 5.0, 10.0),
    folds: int = 5,
    seed: int = 1,
) -> List[Tuple[str, Dict[str, Any]]]:
    """Draw and write every split of ``ann_file`` into ``out_dir``.

    Args:
        ann_file: COCO instances file to split.
        out_dir: Where the splits go.
        percents: Percentages of labelled images, each in (0, 100); 1 and
            1.0 name the same files and are drawn once.
        folds: Number of folds.
        seed: Base random seed.

    Returns:
        ``(path, coco_dict)`` of every written file.

    Raises:
        FileNotFoundError: The annotation file does not exist.
        ValueError: Bad input or settings; nothing is written then.
    """
    percents = list({format_percent(p): p for p in percents}.values())
    check_options(percents, folds, seed)
    data = load_coco(ann_file)
    check_counts(ann_file, len(data['images']), percents)

    ann_index = annotation_image_index(data)
    orphans = int(np.count_nonzero(ann_index < 0))
    if orphans:
        print(
            f'warning: {orphans} annotations of {ann_file} refer to images '
            'that are not in "images"; they are left out of every split',
            file=sys.stderr,
        )
    splits = build_splits(data, ann_index, percents, folds, seed)
    paths = write_all(out_dir, splits)
    return list(zip(paths, (content for _, content in splits)))
