"""Unlabelled images from any folder tree (e.g. ImageNet's ``train/``)."""

import os
import os.path as osp
from typing import List, Sequence

from mmengine.dataset import BaseDataset

from mmpixpro.registry import DATASETS

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
class ImageFolder(BaseDataset):
    """Every image file under ``data_root``, recursively, labels ignored.

    Files are sorted by path, so the index of an image is reproducible.
    Symbolic links to folders are followed.

    Args:
        data_root (str): The folder to scan.
        pipeline (Sequence): Transforms applied to each ``dict(img_path=)``.
        extensions (Sequence[str]): Accepted file suffixes (case-insensitive).
        **kwargs: Other arguments of ``mmengine.dataset.BaseDataset``.

    Unreadable images: when the pipeline returns None for a file (see
    :class:`LoadImageOrSkip`), another image is drawn, and the skipped paths
    travel with the sample (``data_sample.skipped_images``) to the main
    process, where ``UnreadableImageHook`` counts, logs and limits them.

    Raises:
        FileNotFoundError: ``data_root`` does not exist or is not a folder.
        ValueError: ``data_root`` holds no image file.
    """

    def __init__(
        self,
        data_root: str,
        pipeline: Sequence = (),
        extensions: Sequence[str] = IMG_EXTENSIONS,
        **kwargs,
    ) -> None:
        self.extensions = tuple(ext.lower() for ext in extensions)
        super().__init__(data_root=data_root, pipeline=list(pipeline), **kwargs)

    def load_data_list(self) -> List[dict]:
        root = self.data_root
        if not osp.isdir(root):
            raise FileNotFoundError(
                f'image folder {root!r} does not exist or is not a folder'
            )
        paths = []
        for folder, _, files in os.walk(root, followlinks=True):
            paths.extend(
                osp.join(folder, name)
                for name in files
                if name.lower().endswith(self.extensions)
            )
        if not paths:
            raise ValueError(
                f'image folder {root!r} holds no image file '
                f'(looked for {", ".join(self.extensions)})'
            )
        return [dict(img_path=path) for path in sorted(paths)]

    def __getitem__(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        skipped = []
        for _ in range(self.max_refetch + 1):
            data = self.prepare_data(idx)
            if data is not None:
                sample = data.get('data_samples') if isinstance(data, dict) else None
                if skipped and hasattr(sample, 'set_metainfo'):
                    sample.set_metainfo(dict(skipped_images=skipped))
                return data
            skipped.append(self.get_data_info(idx)['img_path'])
            idx = self._rand_another()
        raise RuntimeError(
            f'{len(skipped)} images in a row could not be read under '
            f'{self.data_root!r}, e.g. {skipped[:3]}'
        )
