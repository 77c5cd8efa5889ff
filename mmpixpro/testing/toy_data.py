"""Small generated datasets in the real on-disk formats.

For tests and the demo: COCO (boxes and polygon masks), Pascal VOC (XML),
Cityscapes (``leftImg8bit`` / ``gtFine`` label-id PNGs), ADE20K
(``ADEChallengeData2016`` JPEGs and label PNGs) and an ImageNet-style
class-folder tree. Each image shows a few filled rectangles, one colour per
class, on a noisy background; the annotations are those rectangles, so a
model can learn them.
"""

import json
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

# (COCO category id, name, BGR colour); names are COCO class names so that
# mmdet's CocoDataset keeps them.
COCO_CLASSES = [
    (1, 'person', (40, 40, 220)),
    (3, 'car', (220, 60, 40)),
    (18, 'dog', (40, 200, 60)),
]
VOC_CLASSES = [
    ('car', (220, 60, 40)),
    ('dog', (40, 200, 60)),
    ('person', (40, 40, 220)),
]


# The 80 category ids of COCO, in the order of its class names.
COCO_IDS = [
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
    25, 27, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49,
    50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74,
    75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
]  # fmt: skip


def coco_categories() -> List[dict]:
    """All 80 COCO categories (as in the real files; a detector predicts
    any of them)."""
    from mmdet.datasets import CocoDataset

    names = CocoDataset.METAINFO['classes']
    return [dict(id=i, name=n, supercategory='thing') for i, n in zip(COCO_IDS, names)]


def _canvas(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    return rng.integers(90, 160, size=(height, width, 3), dtype=np.uint8)


def _boxes(
    rng: np.random.Generator, height: int, width: int, num: int
) -> List[Tuple[int, int, int, int]]:
    """``num`` boxes ``(x1, y1, x2, y2)`` (inclusive) of a sensible size."""
    boxes = []
    for _ in range(num):
        w = int(rng.integers(width // 5, width // 2))
        h = int(rng.integers(height // 5, height // 2))
        x1 = int(rng.integers(0, width - w))
        y1 = int(rng.integers(0, height - h))
        boxes.append((x1, y1, x1 + w - 1, y1 + h - 1))
    return boxes


def _draw(img: np.ndarray, box: Tuple[int, int, int, int], colour) -> None:
    x1, y1, x2, y2 = box
    cv2.rectangle(img, (x1, y1), (x2, y2), colour, thickness=-1)


def make_coco(
    root: str,
    splits: Dict[str, int] = {'train2017': 8, 'val2017': 4},
    size: Tuple[int, int] = (96, 128),
    seed: int = 0,
) -> Dict[str, str]:
    """COCO layout: ``{root}/{split}/*.jpg`` and
    ``{root}/annotations/instances_{split}.json`` with boxes and polygons.

    Args:
        size: ``(height, width)`` of the images.

    Returns:
        dict: split name -> annotation file path.
    """
    rng = np.random.default_rng(seed)
    height, width = size
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    ann_files, image_id, ann_id = {}, 1, 1
    for split, count in splits.items():
        os.makedirs(osp.join(root, split), exist_ok=True)
        images, annotations = [], []
        for _ in range(count):
            img = _canvas(rng, height, width)
            name = f'{image_id:012d}.jpg'
            for box in _boxes(rng, height, width, int(rng.integers(1, 4))):
                cat_id, _, colour = COCO_CLASSES[int(rng.integers(len(COCO_CLASSES)))]
                _draw(img, box, colour)
                x1, y1, x2, y2 = box
                w, h = x2 - x1 + 1, y2 - y1 + 1
                annotations.append(
                    dict(
                        id=ann_id,
                        image_id=image_id,
                        category_id=cat_id,
                        bbox=[x1, y1, w, h],
                        area=float(w * h),
                        iscrowd=0,
                        segmentation=[[x1, y1, x2 + 1, y1, x2 + 1, y2 + 1, x1, y2 + 1]],
                    )
                )
                ann_id += 1
            cv2.imwrite(osp.join(root, split, name), img)
            images.append(dict(id=image_id, file_name=name, width=width, height=height))
            image_id += 1
        ann_file = osp.join(root, 'annotations', f'instances_{split}.json')
        with open(ann_file, 'w') as f:
            json.dump(
                dict(
                    info=dict(description='mmpixpro toy COCO'),
                    licenses=[],
                    images=images,
                    annotations=annotations,
                    categories=coco_categories(),
                ),
                f,
            )
        ann_files[split] = ann_file
    return ann_files


def make_voc(
    root: str,
    splits: Dict[str, Dict[str, int]] = {
        'VOC2007': {'trainval': 4, 'test': 4},
        'VOC2012': {'trainval': 4},
    },
    size: Tuple[int, int] = (96, 128),
    seed: int = 0,
) -> str:
    """VOCdevkit layout under ``root``: ``VOC20xx/{JPEGImages,Annotations,
    ImageSets/Main/{split}.txt}``. Returns ``root``."""
    rng = np.random.default_rng(seed)
    height, width = size
    for year, sets in splits.items():
        base = osp.join(root, year)
        for sub in ('JPEGImages', 'Annotations', osp.join('ImageSets', 'Main')):
            os.makedirs(osp.join(base, sub), exist_ok=True)
        index = 0
        for split, count in sets.items():
            names = []
            for _ in range(count):
                name = f'{year[-4:]}_{index:06d}'
                index += 1
                img = _canvas(rng, height, width)
                objects = []
                for box in _boxes(rng, height, width, int(rng.integers(1, 4))):
                    cls, colour = VOC_CLASSES[int(rng.integers(len(VOC_CLASSES)))]
                    _draw(img, box, colour)
                    x1, y1, x2, y2 = (v + 1 for v in box)  # VOC is 1-based
                    objects.append(
                        f'<object><name>{cls}</name><pose>Unspecified</pose>'
                        '<truncated>0</truncated><difficult>0</difficult>'
                        f'<bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>'
                        f'<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>'
                    )
                cv2.imwrite(osp.join(base, 'JPEGImages', f'{name}.jpg'), img)
                with open(osp.join(base, 'Annotations', f'{name}.xml'), 'w') as f:
                    f.write(
                        f'<annotation><folder>{year}</folder>'
                        f'<filename>{name}.jpg</filename><size><width>{width}'
                        f'</width><height>{height}</height><depth>3</depth>'
                        f'</size><segmented>0</segmented>{"".join(objects)}'
                        '</annotation>'
                    )
                names.append(name)
            with open(osp.join(base, 'ImageSets', 'Main', f'{split}.txt'), 'w') as f:
                f.write('\n'.join(names) + '\n')
    return root


# Cityscapes label ids and their train ids (the 19-class convention).
CITYSCAPES_REGIONS = {
    'road': (7, 0),
    'building': (11, 2),
    'sky': (23, 10),
    'car': (26, 13),
}
CITYSCAPES_COLOURS = {
    'road': (128, 64, 128),
    'building': (70, 70, 70),
    'sky': (180, 130, 70),
    'car': (142, 0, 0),
}


def make_cityscapes(
    root: str,
    splits: Dict[str, int] = {'train': 4, 'val': 2},
    size: Tuple[int, int] = (64, 128),
    seed: int = 0,
) -> str:
    """Cityscapes layout: ``leftImg8bit/{split}/toycity/*_leftImg8bit.png``
    and ``gtFine/{split}/toycity/*_gtFine_{labelIds,labelTrainIds}.png``
    (train ids are what mmseg reads; 255 = ignore). Returns ``root``."""
    rng = np.random.default_rng(seed)
    height, width = size
    for split, count in splits.items():
        img_dir = osp.join(root, 'leftImg8bit', split, 'toycity')
        gt_dir = osp.join(root, 'gtFine', split, 'toycity')
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(gt_dir, exist_ok=True)
        for i in range(count):
            sky = int(rng.integers(height // 5, height // 3))
            road = int(rng.integers(height * 2 // 3, height * 4 // 5))
            regions = [
                ('sky', slice(0, sky)),
                ('building', slice(sky, road)),
                ('road', slice(road, height)),
            ]
            img = np.zeros((height, width, 3), np.uint8)
            label_ids = np.zeros((height, width), np.uint8)  # 0: unlabeled
            for name, rows in regions:
                img[rows] = CITYSCAPES_COLOURS[name]
                label_ids[rows] = CITYSCAPES_REGIONS[name][0]
            for box in _boxes(rng, height, width, 2):
                x1, y1, x2, y2 = box
                y1 = max(y1, sky)
                img[y1 : y2 + 1, x1 : x2 + 1] = CITYSCAPES_COLOURS['car']
                label_ids[y1 : y2 + 1, x1 : x2 + 1] = CITYSCAPES_REGIONS['car'][0]
            noise = rng.integers(-12, 13, size=img.shape)
            img = np.clip(img.astype(int) + noise, 0, 255).astype(np.uint8)
            train_ids = np.full_like(label_ids, 255)
            for label_id, train_id in CITYSCAPES_REGIONS.values():
                train_ids[label_ids == label_id] = train_id
            stem = f'toycity_{i:06d}_000019'
            cv2.imwrite(osp.join(img_dir, f'{stem}_leftImg8bit.png'), img)
            cv2.imwrite(osp.join(gt_dir, f'{stem}_gtFine_labelIds.png'), label_ids)
            cv2.imwrite(osp.join(gt_dir, f'{stem}_gtFine_labelTrainIds.png'), train_ids)
    return root


# ADE20K label values (1-150; 0 is "other", ignored) and BGR colours.
ADE20K_REGIONS = {'wall': (1, (120, 120, 120)), 'floor': (4, (50, 50, 80))}
ADE20K_OBJECT = (13, (40, 40, 220))  # person


def make_ade20k(
    root: str,
    splits: Dict[str, int] = {'training': 4, 'validation': 2},
    size: Tuple[int, int] = (96, 128),
    seed: int = 0,
) -> str:
    """ADE20K layout: ``images/{split}/ADE_{split}_*.jpg`` and
    ``annotations/{split}/ADE_{split}_*.png`` (labels 1-150, 0 = other, which
    mmseg's ``reduce_zero_label`` ignores): a wall above a floor and a few
    people. Returns ``root`` (mmseg's ``ADEChallengeData2016`` folder)."""
    rng = np.random.default_rng(seed)
    height, width = size
    for split, count in splits.items():
        img_dir = osp.join(root, 'images', split)
        ann_dir = osp.join(root, 'annotations', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for i in range(count):
            horizon = int(rng.integers(height // 3, height * 2 // 3))
            img = np.zeros((height, width, 3), np.uint8)
            label = np.zeros((height, width), np.uint8)
            for name, rows in (
                ('wall', slice(0, horizon)),
                ('floor', slice(horizon, height)),
            ):
                value, colour = ADE20K_REGIONS[name]
                img[rows], label[rows] = colour, value
            value, colour = ADE20K_OBJECT
            for x1, y1, x2, y2 in _boxes(rng, height, width, 2):
                img[y1 : y2 + 1, x1 : x2 + 1] = colour
                label[y1 : y2 + 1, x1 : x2 + 1] = value
            label[:2] = 0  # a border of "other"
            noise = rng.integers(-12, 13, size=img.shape)
            img = np.clip(img.astype(int) + noise, 0, 255).astype(np.uint8)
            stem = f'ADE_{"train" if split == "training" else "val"}_{i:08d}'
            cv2.imwrite(osp.join(img_dir, f'{stem}.jpg'), img)
            cv2.imwrite(osp.join(ann_dir, f'{stem}.png'), label)
    return root


def make_imagenet(
    root: str,
    splits: Dict[str, int] = {'train': 6, 'val': 4},
    classes: Sequence[str] = ('n00000001', 'n00000002'),
    size: Tuple[int, int] = (72, 72),
    seed: int = 0,
) -> str:
    """ImageNet layout: ``{split}/{class}/*.JPEG`` and ``meta/{split}.txt``
    (``path label`` lines). Class ``k`` images are dominated by one colour."""
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    colours = [(220, 60, 40), (40, 60, 220), (40, 200, 60), (200, 200, 40)]
    for split, count in splits.items():
        lines = []
        for i in range(count):
            label = i % len(classes)
            folder = osp.join(root, split, classes[label])
            os.makedirs(folder, exist_ok=True)
            img = _canvas(rng, *size)
            _draw(img, _boxes(rng, *size, 1)[0], colours[label % len(colours)])
            name = f'{classes[label]}_{i:05d}.JPEG'
            cv2.imwrite(osp.join(folder, name), img)
            lines.append(f'{classes[label]}/{name} {label}')
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    return root
