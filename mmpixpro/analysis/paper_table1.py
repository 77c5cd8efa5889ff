"""Table 1 of the PixPro paper: every pre-training fine-tuned with one
protocol (Xie et al., CVPR 2021, arXiv:2011.10043), and the benchmark
configs of this project that follow that protocol.

All rows are ResNet-50 pre-trained on ImageNet-1K. VOC: Faster R-CNN R50-C4
on VOC07+12, AP / AP50 / AP75 (the mean of the VOC07 AP over IoU 0.5:0.95,
as detectron2 reports it); COCO: Mask R-CNN 1x, box AP / AP50 / AP75, R50-FPN
and R50-C4; Cityscapes: FCN R50, mIoU. The PixPro rows use C5 pre-training
except COCO R50-FPN (P3-P6). InfoMin 800 ep was re-trained by the authors.
"""

from collections import OrderedDict
from typing import Dict, NamedTuple, Tuple


class Column(NamedTuple):
    """A column of Table 1: its title and the benchmark config (file stem
    under configs/benchmarks/) that follows its protocol."""

    title: str
    config: str


COLUMNS: Dict[str, Column] = OrderedDict(
    voc=Column(
        'VOC07+12 det. (Faster R-CNN R50-C4)',
        'faster-rcnn_r50-c4_8xb2-ms-24k_voc0712_paper-protocol',
    ),
    coco_fpn=Column(
        'COCO det. (Mask R-CNN R50-FPN 1x)',
        'mask-rcnn_r50_fpn_8xb2-ms-90k_coco_paper-protocol',
    ),
    coco_c4=Column(
        'COCO det. (Mask R-CNN R50-C4 1x)',
        'mask-rcnn_r50-c4_8xb2-ms-90k_coco_paper-protocol',
    ),
    cityscapes=Column(
        'Cityscapes seg. (FCN R50)',
        'fcn-d6_r50-d16_8xb2-90k_cityscapes-769x769_paper-protocol',
    ),
)

# row key -> (method as the paper names it, {column: numbers})
ROWS: Dict[str, Tuple[str, Dict[str, Tuple[float, ...]]]] = OrderedDict(
    scratch=(
        'scratch',
        dict(
            voc=(33.8, 60.2, 33.1),
            coco_fpn=(32.8, 51.0, 35.3),
            coco_c4=(26.4, 44.0, 27.8),
            cityscapes=(65.3,),
        ),
    ),
    supervised=(
        'supervised (100 ep)',
        dict(
            voc=(53.5, 81.3, 58.8),
            coco_fpn=(39.7, 59.5, 43.3),
            coco_c4=(38.2, 58.2, 41.2),
            cityscapes=(74.6,),
        ),
    ),
    moco=(
        'MoCo (200 ep)',
        dict(
            voc=(55.9, 81.5, 62.6),
            coco_fpn=(39.4, 59.1, 43.0),
            coco_c4=(38.5, 58.3, 41.6),
            cityscapes=(75.3,),
        ),
    ),
    simclr=(
        'SimCLR (1000 ep)',
        dict(
            voc=(56.3, 81.9, 62.5),
            coco_fpn=(39.8, 59.5, 43.6),
            coco_c4=(38.4, 58.3, 41.6),
            cityscapes=(75.8,),
        ),
    ),
    mocov2=(
        'MoCo v2 (800 ep)',
        dict(
            voc=(57.6, 82.7, 64.4),
            coco_fpn=(40.4, 60.1, 44.3),
            coco_c4=(39.5, 59.0, 42.6),
            cityscapes=(76.2,),
        ),
    ),
    infomin200=(
        'InfoMin (200 ep)',
        dict(
            voc=(57.6, 82.7, 64.6),
            coco_fpn=(40.6, 60.6, 44.6),
            coco_c4=(39.0, 58.5, 42.0),
            cityscapes=(75.6,),
        ),
    ),
    infomin800=(
        'InfoMin (800 ep)',
        dict(
            voc=(57.5, 82.5, 64.0),
            coco_fpn=(40.4, 60.4, 44.3),
            coco_c4=(38.8, 58.2, 41.7),
            cityscapes=(75.6,),
        ),
    ),
    pixpro100=(
        'PixPro (100 ep)',
        dict(
            voc=(58.8, 83.0, 66.5),
            coco_fpn=(41.3, 61.3, 45.4),
            coco_c4=(40.0, 59.3, 43.4),
            cityscapes=(76.8,),
        ),
    ),
    pixpro400=(
        'PixPro (400 ep)',
        dict(
            voc=(60.2, 83.8, 67.7),
            coco_fpn=(41.4, 61.6, 45.4),
            coco_c4=(40.5, 59.8, 44.0),
            cityscapes=(77.2,),
        ),
    ),
)


def column_of(config_stem: str):
    """The Table 1 column whose benchmark config is ``config_stem``, or
    None."""
    for key, column in COLUMNS.items():
        if column.config == config_stem:
            return key
    return None
