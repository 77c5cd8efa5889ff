"""Image lists: the files of a folder tree, and list files of relative paths.

A list file (one image path per line, relative to the dataset's image
prefix, or absolute) lets :class:`ImageFolder` start without walking the
folder tree: on ImageNet-1k every rank would otherwise list 1.28 M files.
Write one with ``tools/misc/make_file_list.py``.
"""

import os.path as osp
from typing import List, Sequence

from mmpretrain.datasets.custom import get_samples


def list_images(root: str, extensions: Sequence[str]) -> List[str]:
    """Paths of the image files under ``root``, relative to it, sorted.

    The walk is mmpretrain's (``CustomDataset(with_label=False)``): recursive,
    following links to folders, hidden files skipped, suffixes compared in
    lower case.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
        ValueError: ``root`` holds no image file.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(
            f'image folder {root!r} does not exist or is not a folder'
        )
    suffixes = tuple(ext.lower() for ext in extensions)
    paths, _ = get_samples(root, None, lambda name: name.lower().endswith(suffixes))
    if not paths:
        raise ValueError(
            f'image folder {root!r} holds no image file '
            f'(looked for {", ".join(suffixes)})'
        )
    return paths


def read_file_list(path: str) -> List[str]:
    """The image paths of a list file, one per line; blank lines skipped.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file lists no image.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'image list file {path!r} not found')
    with open(path, encoding='utf-8') as f:
        paths = [line.strip() for line in f]
    paths = [p for p in paths if p]
    if not paths:
        raise ValueError(f'image list file {path!r} lists no image')
    return paths


def write_file_list(root: str, out_file: str, extensions: Sequence[str]) -> int:
    """Write the images under ``root`` (relative paths) to ``out_file``.

    Returns:
        int: The number of paths written.
    """
    paths = list_images(root, extensions)
    with open(out_file, 'w', encoding='utf-8') as f:
        f.writelines(f'{p}\n' for p in paths)
    return len(paths)
