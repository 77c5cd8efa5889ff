"""Labelled / unlabelled folds of COCO train2017 for semi-supervised runs.

For every fold (numbered from 1) and every percentage, a labelled subset of the
images is drawn without replacement, and the remaining images form its
unlabelled complement, named after the input file (``instances_train2017``
for ``instances_train2017.json``)::

    {out_dir}/{input name}.{fold}@{percent}.json
    {out_dir}/{input name}.{fold}@{percent}-unlabeled.json

Each subset keeps exactly the annotations of its images; every other top-level
entry (``categories``, ``info``, ``licenses``, ...) is copied unchanged.  Each
fold's draw depends only on ``(seed, fold, percent)``, so the same call gives
byte-identical files.

Everything is validated and every subset is built before anything is written;
an output that exists is refused (before the input is read) unless
``overwrite`` is given, and one that is the input always. Files are first
written to temporary files in the output directory (created ``0o666`` minus
the umask, as ``open()`` does: readable by the group where the umask allows)
and only renamed into place once all of them were written, so a failed run
leaves no output behind (mmpixpro.utils.atomic_file).
"""

from __future__ import annotations

import json
import os
import os.path as osp
import sys
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from mmpixpro.utils.atomic_file import AtomicFile, OutputExistsError, check_output

PREFIX = 'instances_train2017'  # the name of train2017's splits


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


def input_name(ann_file: str) -> str:
    """The name the splits of ``ann_file`` carry: its file name without
    ``.json`` (``instances_val2017`` for ``.../instances_val2017.json``)."""
    name = osp.basename(ann_file)
    return name[: -len('.json')] if name.lower().endswith('.json') else name


def output_names(fold: int, percent: float, prefix: str = PREFIX) -> Tuple[str, str]:
    """File names of the labelled and unlabelled subsets of one split.

    Args:
        fold: Fold number, starting at 1.
        percent: Percentage of labelled images.
        prefix: The input's name (:func:`input_name`).

    Returns:
        ``(labelled_name, unlabelled_name)``.
    """
    stem = f'{prefix}.{fold}@{format_percent(percent)}'
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
        ValueError: The file is not valid JSON (or nests too deep to parse),
            lacks ``images`` or ``annotations``, or has images without
            (unique) ids or annotations without ``image_id``, or an id that
            is a list or object.
    """
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'annotation file not found: {ann_file}')
    try:
        with open(ann_file, encoding='utf-8') as f:
            data = json.load(f)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ValueError(f'{ann_file} is not a valid JSON file: {exc}') from None
    except RecursionError:  # json nests through recursion: a depth limit
        raise ValueError(
            f'{ann_file} is not a COCO file: its JSON nests deeper than '
            f'{sys.getrecursionlimit()} levels, far deeper than a COCO file'
        ) from None
    if not isinstance(data, dict):
        raise ValueError(f'{ann_file} is not a COCO file: its top level is not a dict')
    for key in ('images', 'annotations'):
        if not isinstance(data.get(key), list):
            raise ValueError(f'{ann_file} is not a COCO file: it has no "{key}" list')
    ids = set()
    for image in data['images']:
        if not isinstance(image, dict) or 'id' not in image:
            raise ValueError(f'{ann_file}: an entry of "images" has no "id"')
        check_id(ann_file, 'image id', image['id'])
        if image['id'] in ids:
            raise ValueError(f'{ann_file}: image id {image["id"]!r} is repeated')
        ids.add(image['id'])
    for ann in data['annotations']:
        if not isinstance(ann, dict) or 'image_id' not in ann:
            raise ValueError(f'{ann_file}: an entry of "annotations" has no "image_id"')
        check_id(ann_file, '"image_id" of an annotation', ann['image_id'])
    return data


def check_id(ann_file: str, what: str, value: Any) -> None:
    """Refuse an id that is a JSON list or object (COCO's ids are numbers;
    such an id cannot be looked up).

    Raises:
        ValueError: naming the file, ``what`` and the value (shortened).
    """
    if isinstance(value, (list, dict)):
        text = json.dumps(value)
        text = text if len(text) <= 40 else text[:37] + '...'
        kind = 'list' if isinstance(value, list) else 'object'
        raise ValueError(
            f'{ann_file}: {what} {text} is a JSON {kind}; COCO ids are numbers'
        )


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
    prefix: str = PREFIX,
) -> List[Tuple[str, Dict[str, Any]]]:
    """Draw every labelled subset and its unlabelled complement in memory.

    Args:
        data: The parsed (and checked) COCO file.
        ann_index: Image index of each annotation, from
            :func:`annotation_image_index`.
        percents: Percentages of labelled images (already de-duplicated).
        folds: Number of folds.
        seed: Base seed.
        prefix: The input's name, which the file names start with.

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
        name, unlabelled_name = output_names(fold, percent, prefix)
        splits.append((name, subset(data, labelled, ann_labelled)))
        splits.append((unlabelled_name, subset(data, ~labelled, ann_unlabelled)))
    return splits


def write_all(
    out_dir: str, splits: Sequence[Tuple[str, Dict[str, Any]]], overwrite: bool = False
) -> List[str]:
    """Write every split, atomically and all-or-nothing.

    Each file goes to a temporary file in ``out_dir`` first; only when all of
    them are written are they renamed to their final names. On failure the
    temporary files are removed, and so are the files this call had already
    renamed into place where nothing was there before (without
    ``overwrite``, a file that appeared meanwhile is never replaced).

    Args:
        out_dir: Output directory (created if needed).
        splits: ``(file_name, coco_dict)`` pairs.
        overwrite: Replace existing files.

    Returns:
        Paths of the written files.
    """
    os.makedirs(out_dir, exist_ok=True)
    pending: List[AtomicFile] = []
    placed: List[str] = []
    try:
        for name, content in _progress(splits, len(splits), 'writing'):
            out = AtomicFile(osp.join(out_dir, name), 'w', overwrite=overwrite)
            pending.append(out)
            json.dump(content, out.file, separators=(',', ':'))
        for out in pending:
            out.commit()
            placed.append(out.path)
    except BaseException as e:
        for out in pending:
            out.discard()
        if not overwrite:  # these did not exist before this call
            for path in placed:
                os.remove(path)
        failed = [out for out in pending if out.write_error is not None]
        if failed:  # disk full ...: one line naming the file
            raise failed[0].explain(e) from e
        raise
    return [out.path for out in pending]


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


def check_outputs(
    ann_file: str,
    out_dir: str,
    percents: Sequence[float],
    folds: int,
    overwrite: bool,
) -> None:
    """Refuse outputs that are ``ann_file`` (always) or exist (unless
    ``overwrite``), before anything is read or written.

    Raises:
        OutputExistsError: naming the first such file and how many there are.
    """
    prefix = input_name(ann_file)
    paths = [
        osp.join(out_dir, name)
        for fold in range(1, folds + 1)
        for percent in percents
        for name in output_names(fold, percent, prefix)
    ]
    for path in paths:
        check_output(path, [ann_file], overwrite=True)  # the input: never
    existing = [path for path in paths if osp.lexists(path)]
    if existing and not overwrite:
        raise OutputExistsError(
            f'{len(existing)} of the {len(paths)} split files exist already, '
            f'e.g. {existing[0]!r}; give another --out-dir, or --overwrite to '
            'replace them'
        )


def split_coco(
    ann_file: str,
    out_dir: str,
    percents: Sequence[float] = (1.0, 2.0, 5.0, 10.0),
    folds: int = 5,
    seed: int = 1,
    overwrite: bool = False,
) -> List[Tuple[str, Dict[str, Any]]]:
    """Draw and write every split of ``ann_file`` into ``out_dir``.

    Args:
        ann_file: COCO instances file to split.
        out_dir: Where the splits go, named after ``ann_file``
            (:func:`input_name`).
        percents: Percentages of labelled images, each in (0, 100); 1 and
            1.0 name the same files and are drawn once.
        folds: Number of folds.
        seed: Base random seed.
        overwrite: Replace existing split files (never ``ann_file``).

    Returns:
        ``(path, coco_dict)`` of every written file.

    Raises:
        FileNotFoundError: The annotation file does not exist.
        FileExistsError: An output exists (without ``overwrite``) or is
            ``ann_file``; checked before the file is read.
        ValueError: Bad input or settings; nothing is written then.
    """
    percents = list({format_percent(p): p for p in percents}.values())
    check_options(percents, folds, seed)
    check_outputs(ann_file, out_dir, percents, folds, overwrite)
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
    prefix = input_name(ann_file)
    splits = build_splits(data, ann_index, percents, folds, seed, prefix)
    paths = write_all(out_dir, splits, overwrite)
    return list(zip(paths, (content for _, content in splits)))
