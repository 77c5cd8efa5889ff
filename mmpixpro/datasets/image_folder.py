"""Unlabelled images from any folder tree (e.g. ImageNet's ``train/``)."""

import gc
import os.path as osp
import pickle
from typing import List, Sequence, Tuple

import numpy as np
from mmpretrain.datasets import CustomDataset

from mmpixpro.registry import DATASETS

from .file_list import list_images, read_file_list

IMG_EXTENSIONS = (
    '.jpg',
    '.jpeg',
    '.png',
    '.ppm',
    '.bmp',
    '.pgm',
    '.tif',
    '.tiff',
    '.webp',
)


@DATASETS.register_module()
class ImageFolder(CustomDataset):
    """Every image file under ``data_root``, or the images of a list file.

    mmpretrain's ``CustomDataset(with_label=False)`` with clear errors,
    blank list lines ignored, and unreadable images skipped and counted
    (the parent lets one unreadable file end the run).

    Without ``ann_file`` the folder is walked (recursively, links to folders
    followed, hidden files and folders skipped, a link loop refused, see
    :func:`list_images`); with it, the images are the lines of
    that file, relative to ``data_root`` / ``data_prefix`` (or absolute), and
    nothing is walked or opened at start-up. Either way files are in a
    reproducible order (sorted walk, or the list's order).

    Args:
        data_root (str): The images' folder (and the base of a relative
            ``ann_file`` and ``data_prefix``).
        pipeline (Sequence): Transforms applied to each ``dict(img_path=)``.
        ann_file (str): Optional list file, one image path per line (write
            one with ``tools/misc/make_file_list.py``). Defaults to ''.
        data_prefix (str): Folder of the images under ``data_root``.
            Defaults to ''.
        extensions (Sequence[str]): Suffixes of the walk (case-insensitive).
        **kwargs: Other arguments of ``mmengine.dataset.BaseDataset``.

    Unreadable images: when the pipeline returns None for a file (see
    :class:`LoadImageOrSkip`), another image is drawn, and the skipped paths
    and why each was skipped travel with the sample
    (``data_sample.skipped_images``, ``data_sample.skipped_reasons``) to the
    main process, where ``UnreadableImageHook`` counts, logs and limits them.

    Raises:
        FileNotFoundError: the folder or the list file does not exist.
        ValueError: no image in the folder or the list; a link loop in the
            folder; a list file that is not a regular file.
    """

    def __init__(
        self,
        data_root: str = '',
        pipeline: Sequence = (),
        ann_file: str = '',
        data_prefix: str = '',
        extensions: Sequence[str] = IMG_EXTENSIONS,
        **kwargs,
    ) -> None:
        if not (data_root or ann_file or data_prefix):
            raise ValueError('ImageFolder needs `data_root` or `ann_file`')
        super().__init__(
            data_root=data_root,
            data_prefix=data_prefix,
            ann_file=ann_file,
            with_label=False,
            extensions=tuple(extensions),
            pipeline=list(pipeline),
            **kwargs,
        )

    def load_data_list(self) -> List[dict]:
        prefix = self.img_prefix
        if self.ann_file:
            paths = read_file_list(self.ann_file)
        else:
            paths = list_images(prefix, self.extensions)
        return [dict(img_path=osp.join(prefix, path)) for path in paths]

    def _serialize_data(self) -> Tuple[np.ndarray, np.ndarray]:
        """mmengine's serialisation (same bytes and addresses), streamed.

        (The parent holds every entry's pickle as its own array until one
        concatenation: with 1.28 M entries that doubled the start-up peak.)
        Entries are dropped as they are written.
        """
        data_list = self.data_list
        address = np.empty(len(data_list), dtype=np.int64)
        data = bytearray()
        for i, info in enumerate(data_list):
            data += pickle.dumps(info, protocol=4)
            data_list[i] = None
            address[i] = len(data)
        data_list.clear()
        gc.collect()
        return np.frombuffer(data, dtype=np.uint8), address

    def __getitem__(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        skipped, reasons = [], []
        for _ in range(self.max_refetch + 1):
            # mmengine's prepare_data, keeping the dict the loader writes
            # ``unreadable_reason`` into
            info = self.get_data_info(idx)
            data = self.pipeline(info)
            if data is not None:
                sample = data.get('data_samples') if isinstance(data, dict) else None
                if skipped and hasattr(sample, 'set_metainfo'):
                    sample.set_metainfo(
                        dict(skipped_images=skipped, skipped_reasons=reasons)
                    )
                return data
            skipped.append(info['img_path'])
            reasons.append(info.get('unreadable_reason', 'unreadable'))
            idx = self._rand_another()
        raise RuntimeError(
            f'{len(skipped)} images in a row could not be read under '
            f'{self.img_prefix!r}, e.g. '
            + '; '.join(f'{p}: {r}' for p, r in list(zip(skipped, reasons))[:3])
        )
