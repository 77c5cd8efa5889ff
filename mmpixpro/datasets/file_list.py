"""Image lists: the files of a folder tree, and list files of relative paths.

A list file (one image path per line, relative to the dataset's image
prefix, or absolute) lets :class:`ImageFolder` start without walking the
folder tree: on ImageNet-1k every rank would otherwise list 1.28 M files.
Write one with ``tools/misc/make_file_list.py``.

File names are ``str`` as ``os`` gives them: bytes that are not valid UTF-8
become lone surrogates (``surrogateescape``), and list files are read and
written with that error handler, so such a name is written as its bytes and
read back as the same ``str``: the list and the walk name the same files.
"""

import os
import os.path as osp
import stat
from typing import Callable, List, Optional, Sequence, Tuple

from mmpixpro.utils.atomic_file import atomic_open, check_output

# Read and write list files like the file system's names (see above).
LIST_ENCODING = dict(encoding='utf-8', errors='surrogateescape')


class FolderLoopError(ValueError):
    """A link in an image folder leads back to a folder above it."""


def _stat_key(path: str) -> Tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def list_images(
    root: str,
    extensions: Sequence[str],
    progress: Optional[Callable[[int], None]] = None,
) -> List[str]:
    """Paths of the image files under ``root``, relative to it, sorted.

    The walk: recursive, following links to folders and files; hidden files
    *and folders* (name starting with ``.``: ``.snapshot``, ``.git``,
    ``.Trash-1000`` ...) skipped; only regular files (not FIFOs, devices,
    broken links) listed; suffixes compared in lower case; the result sorted
    as strings (mmpretrain's ``CustomDataset(with_label=False)`` order). A
    link that leads back to a folder above it would make the walk endless:
    it stops the walk with one line naming the link.

    Args:
        root: The image folder.
        extensions: Suffixes of image files.
        progress: Called with the number of images found since its last
            call (every 1000 entries and at the end of each folder).

    Raises:
        FileNotFoundError: ``root`` is not a folder.
        FolderLoopError: a link loop under ``root``.
        OSError: a folder cannot be listed (named in the message).
        ValueError: ``root`` holds no image file.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(
            f'image folder {root!r} does not exist or is not a folder'
        )
    suffixes = tuple(ext.lower() for ext in extensions)
    paths: List[str] = []
    # (folder, its path relative to root, (stat key, relative path) of it
    # and of every folder above it)
    stack = [(root, '', ((_stat_key(root), '.'),))]
    while stack:
        folder, rel, chain = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as e:
            raise OSError(
                e.errno,
                f'cannot list {folder!r} in the image folder {root!r}: '
                f'{e.strerror}; fix it or leave it out of the folder',
            ) from None
        found = 0
        for count, entry in enumerate(entries, 1):
            name = entry.name
            if name.startswith('.'):
                continue
            entry_rel = osp.join(rel, name) if rel else name
            if _is(entry.is_dir):
                try:
                    key = _stat_key(entry.path)
                except OSError:  # removed meanwhile
                    continue
                for above, above_rel in chain:
                    if above == key:
                        raise FolderLoopError(
                            f'link loop in the image folder {root!r}: '
                            f'{entry_rel!r} leads back to {above_rel!r}; '
                            'remove or fix that link'
                        )
                stack.append((entry.path, entry_rel, chain + ((key, entry_rel),)))
            elif name.lower().endswith(suffixes) and _is(entry.is_file):
                paths.append(entry_rel)
                found += 1
            if progress is not None and found and count % 1000 == 0:
                progress(found)
                found = 0
        if progress is not None and found:
            progress(found)
    if not paths:
        raise ValueError(
            f'image folder {root!r} holds no image file '
            f'(looked for {", ".join(suffixes)})'
        )
    paths.sort()
    return paths


def _is(test: Callable[[], bool]) -> bool:
    """``entry.is_dir()`` / ``is_file()``, False where the link cannot be
    followed (broken, or a link to itself)."""
    try:
        return test()
    except OSError:
        return False


def read_file_list(path: str) -> List[str]:
    """The image paths of a list file, one per line; blank lines and a
    UTF-8 byte order mark skipped.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a regular file (a FIFO would block the reader
            forever, a device never end), or the file lists no image.
    """
    if not osp.exists(path):
        raise FileNotFoundError(f'image list file {path!r} not found')
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError(
            f'image list file {path!r} is not a regular file (a FIFO, device '
            'or folder); give the path of a list file'
        )
    with open(path, **LIST_ENCODING) as f:
        paths = [line.strip() for line in f]
    if paths and paths[0].startswith('\ufeff'):  # written by a Windows editor
        paths[0] = paths[0][1:].strip()
    paths = [p for p in paths if p]
    if not paths:
        raise ValueError(f'image list file {path!r} lists no image')
    return paths


def check_listable(paths: Sequence[str], root: str) -> None:
    """Refuse names that a list file cannot carry: a line break would split
    the name, leading / trailing white space would be stripped on reading.

    Raises:
        ValueError: naming the first such path.
    """
    for p in paths:
        if p != p.strip() or '\n' in p or '\r' in p:
            raise ValueError(
                f'{osp.join(root, p)!r} cannot be written to a list file (a line '
                'break or white space at an end of its name): rename it'
            )


def write_file_list(
    root: str,
    out_file: str,
    extensions: Sequence[str],
    overwrite: bool = False,
    progress: Optional[Callable[[int], None]] = None,
) -> int:
    """Write the images under ``root`` (relative paths) to ``out_file``.

    ``out_file`` appears whole or not at all (an existing one is left as it
    was when anything fails), readable as a plain ``open()`` would make it.

    Args:
        root, extensions, progress: As for :func:`list_images`.
        out_file: The list file.
        overwrite: Replace an existing ``out_file``.

    Returns:
        int: The number of paths written.

    Raises:
        FileExistsError: ``out_file`` exists and ``overwrite`` is false.
    """
    check_output(out_file, overwrite=overwrite)
    paths = list_images(root, extensions, progress)
    check_listable(paths, root)
    with atomic_open(out_file, 'w', overwrite=overwrite, **LIST_ENCODING) as f:
        f.writelines(f'{p}\n' for p in paths)
    return len(paths)
