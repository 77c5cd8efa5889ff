"""VOC "difficult" objects in the paper-protocol VOC config: trained on, as
detectron2's VOC loader does; ignored by the evaluation, as VOC's rule (and
both evaluators) do. On a generated VOC07+12 layout with one difficult
object in VOC2012 trainval and one in VOC2007 test."""

import os.path as osp
import re

import numpy as np
import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

from mmpixpro.testing import small_benchmark_config, toy_data, walk_dicts

VOC_C4 = osp.join(
    REPO,
    'configs',
    'benchmarks',
    'mmdet',
    'faster-rcnn_r50-c4_8xb2-ms-24k_voc0712_paper-protocol.py',
)


def mark_first_object_difficult(xml_path: str) -> list:
    """Set the first object of an annotation difficult; its box, 0-based
    ``[x1, y1, x2, y2]`` as mmdet reads VOC."""
    with open(xml_path) as f:
        text = f.read()
    text = text.replace('<difficult>0</difficult>', '<difficult>1</difficult>', 1)
    with open(xml_path, 'w') as f:
        f.write(text)
    box = re.search(
        r'<xmin>(\d+)</xmin><ymin>(\d+)</ymin><xmax>(\d+)</xmax><ymax>(\d+)</ymax>',
        text,
    )
    return [int(v) - 1 for v in box.groups()]


@pytest.fixture(scope='module')
def voc(tmp_path_factory):
    root = toy_data.make_voc(str(tmp_path_factory.mktemp('voc') / 'VOCdevkit'))
    difficult = {}
    for year, image in (('VOC2012', '2012_000001'), ('VOC2007', '2007_000004')):
        xml = osp.join(root, year, 'Annotations', f'{image}.xml')
        difficult[image] = mark_first_object_difficult(xml)
    # 2007_000004 is the first VOC2007 test image (4 trainval images first)
    with open(osp.join(root, 'VOC2007', 'ImageSets', 'Main', 'test.txt')) as f:
        assert f.readline().strip() == '2007_000004'
    return root, difficult


def build_dataset(cfg, loader):
    import mmpixpro.datasets  # noqa: F401  (what custom_imports does)

    with DefaultScope.overwrite_default_scope('mmdet'):
        from mmdet.registry import DATASETS

        return DATASETS.build(cfg[loader].dataset)


def small_config(root):
    # the toy images are 128 x 96: no resizing, no flip, boxes as annotated
    cfg = small_benchmark_config(Config.fromfile(VOC_C4), root, (128, 96))

    def no_flip(node):
        if node.get('type') == 'RandomFlip':
            node['prob'] = 0.0

    walk_dicts(cfg._cfg_dict, no_flip)
    return cfg


def sample_of(dataset, img_id):
    for i in range(len(dataset)):
        if dataset.get_data_info(i)['img_id'] == img_id:
            return dataset[i]['data_samples']
    raise AssertionError(f'{img_id} not in the dataset')


def boxes(instances):
    return instances.bboxes.tensor.tolist() if len(instances) else []


def test_training_learns_the_difficult_object(voc):
    root, difficult = voc
    cfg = small_config(root)
    train = build_dataset(cfg, 'train_dataloader')
    assert len(train) == 8  # VOC07 trainval 4 + VOC12 trainval 4
    voc12 = train.datasets[1]
    assert type(voc12).__name__ == 'VOCDatasetWithDifficult'
    ours = sample_of(voc12, '2012_000001')
    assert difficult['2012_000001'] in boxes(ours.gt_instances)
    assert len(ours.ignored_instances) == 0
    # mmdet's VOCDataset on the same file leaves the object out of training
    mmdet_cfg = small_config(root)
    for dataset in mmdet_cfg.train_dataloader.dataset.datasets:
        dataset.type = 'VOCDataset'
    voc07, voc12 = build_dataset(mmdet_cfg, 'train_dataloader').datasets
    theirs = sample_of(voc12, '2012_000001')
    assert boxes(theirs.ignored_instances) == [difficult['2012_000001']]
    assert len(theirs.gt_instances) == len(ours.gt_instances) - 1
    # the other images: the same boxes either way
    theirs = sample_of(voc07, '2007_000000')
    ours = sample_of(train.datasets[0], '2007_000000')
    assert boxes(theirs.gt_instances) == boxes(ours.gt_instances)


def test_evaluation_ignores_the_difficult_object(voc):
    """VOC's rule: detecting the difficult object or not changes nothing;
    every other object detected exactly gives AP 1 at every IoU."""
    from mmdet.evaluation import VOCMetric

    root, difficult = voc
    cfg = small_config(root)
    val = build_dataset(cfg, 'val_dataloader')
    assert type(val).__name__ == 'VOCDataset' and val.test_mode
    sample = sample_of(val, '2007_000004')
    assert boxes(sample.ignored_instances) == [difficult['2007_000004']]
    assert difficult['2007_000004'] not in boxes(sample.gt_instances)

    def evaluate(detect_difficult: bool) -> dict:
        metric_cfg = {
            k: v for k, v in cfg.val_evaluator.items() if k not in ('type', '_scope_')
        }
        metric = VOCMetric(**metric_cfg)
        metric.dataset_meta = val.metainfo
        for i in range(len(val)):
            sample = val[i]['data_samples']
            gt, ignored = sample.gt_instances, sample.ignored_instances
            found = [gt] + ([ignored] if detect_difficult and len(ignored) else [])
            sample.pred_instances = InstanceData(
                bboxes=torch.cat([f.bboxes.tensor for f in found]),
                labels=torch.cat([f.labels for f in found]),
                scores=torch.ones(sum(len(f) for f in found)),
            )
            metric.process({}, [sample.to_dict()])
        return metric.compute_metrics(metric.results)

    for detect_difficult in (False, True):
        metrics = evaluate(detect_difficult)
        assert metrics['mAP'] == pytest.approx(1.0), metrics
        assert np.allclose([metrics[f'AP{t}'] for t in (50, 75, 95)], 1.0)


def test_the_training_dataset_refuses_test_mode(voc):
    from mmpixpro.datasets import VOCDatasetWithDifficult

    root, _ = voc
    with pytest.raises(ValueError, match="evaluate on type='VOCDataset'"):
        VOCDatasetWithDifficult(
            data_root=root,
            ann_file='VOC2007/ImageSets/Main/test.txt',
            data_prefix=dict(sub_data_root='VOC2007/'),
            test_mode=True,
        )
