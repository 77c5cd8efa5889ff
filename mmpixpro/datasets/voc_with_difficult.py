"""Pascal VOC for training with the "difficult" objects as boxes to learn."""

import xml.etree.ElementTree as ET
from typing import List

from mmdet.datasets import VOCDataset

from mmpixpro.registry import DATASETS


# The detection configs (scope mmdet) name it type='mmpixpro.VOCDatasetWithDifficult'.
@DATASETS.register_module()
class VOCDatasetWithDifficult(VOCDataset):
    """mmdet's ``VOCDataset`` that trains on the objects marked difficult.

    mmdet's ``VOCDataset`` gives every ``<difficult>1</difficult>`` object
    ``ignore_flag = 1`` (it ends in ``ignored_instances``, not learned);
    detectron2's VOC loader, behind the paper's VOC numbers, keeps them as
    ordinary boxes. Here they are parsed as if ``<difficult>`` were 0, so
    they reach ``gt_instances``; boxes below ``filter_cfg.bbox_min_size``
    are still ignored as in the parent. Evaluation keeps VOC's rule
    (difficult objects ignored): evaluate on ``VOCDataset``, which is why
    this class refuses ``test_mode``.

    Args: those of ``mmdet.datasets.VOCDataset``.
    """

    def __init__(self, *args, test_mode: bool = False, **kwargs) -> None:
        if test_mode:
            raise ValueError(
                'VOCDatasetWithDifficult is for training (test_mode=True): '
                "evaluate on type='VOCDataset', which ignores difficult "
                'objects as VOC evaluation does'
            )
        super().__init__(*args, test_mode=test_mode, **kwargs)

    def _parse_instance_info(
        self, raw_ann_info: ET.ElementTree, minus_one: bool = True
    ) -> List[dict]:
        """The parent's instances, difficult objects not flagged ignored."""
        for obj in raw_ann_info.findall('object'):
            difficult = obj.find('difficult')
            if difficult is not None:
                difficult.text = '0'  # this image's own parsed tree
        return super()._parse_instance_info(raw_ann_info, minus_one=minus_one)
