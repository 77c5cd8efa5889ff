"""The semi-supervised COCO pipeline end to end: split, fold runs, aggregate."""

import glob
import json
import os.path as osp

import numpy as np
import pytest
from conftest import REPO
from helpers import load_tool, pretrain

from mmpixpro.testing import toy_data

SEMI_CONFIG = osp.join(
    REPO,
    'configs',
    'benchmarks',
    'mmdet',
    'semi_coco',
    'mask-rcnn_r50_fpn_8xb2-ms-12e_coco-10pct_paper-arch.py',
)


TINY_SEMI = """\
_base_ = {base!r}
data_root = {root!r}
small = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(128, 96), keep_ratio=True),
    dict(type='PackDetInputs'),
]
model = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=[64, 128, 256, 512]),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=200, max_per_img=100),
        rcnn=dict(sampler=dict(num=64)),
    ),
    test_cfg=dict(
        rpn=dict(nms_pre=200, max_per_img=100),
        rcnn=dict(score_thr=0.0, max_per_img=20),
    ),
)
custom_hooks = [
    dict(
        type='PretrainedTransferHook',
        rules=[
            dict(model='backbone.', checkpoint='backbone.', required=True),
            dict(model='neck.', checkpoint='neck.'),
        ],
    ),
    dict(type='PreciseBNBeforeEvalHook', num_samples=4),
]
loader = dict(batch_size=2, num_workers=0, persistent_workers=False)
train_dataloader = dict(**loader, dataset=dict(data_root=data_root, pipeline=small))
val_dataloader = dict(
    **loader,
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img='val2017/'),
        pipeline=small,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1)
"""


def tiny_semi_config(path, coco_root):
    """The real semi-supervised config with ResNet-18, small images, and the
    generated COCO; the fold's annotation file is set by the runner."""
    with open(path, 'w') as f:
        f.write(TINY_SEMI.format(base=SEMI_CONFIG, root=coco_root + '/'))


@pytest.mark.slow
def test_split_runs_and_aggregate_on_two_tiny_folds(tmp_path, capsys):
    coco = str(tmp_path / 'coco')
    anns = toy_data.make_coco(coco, splits={'train2017': 20, 'val2017': 4})
    split_coco = load_tool('tools/misc/split_coco.py')
    split_coco.main(
        [
            '--ann-file',
            anns['train2017'],
            '--out-dir',
            osp.join(coco, 'semi_anns'),
            '--percents',
            '20',
            '--folds',
            '2',
        ]
    )  # 4 labelled images: 2 iterations
    ckpt = pretrain(
        osp.join(REPO, 'configs', 'selfsup', 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'),
        tmp_path / 'pretrain',
    )
    tiny_semi_config(str(tmp_path / 'semi-20pct.py'), coco)

    semi = load_tool('tools/benchmarks/semi_coco.py')
    runs = str(tmp_path / 'runs')
    argv = [
        ckpt,
        '--percents',
        '20',
        '--folds',
        '1',
        '2',
        '--work-root',
        runs,
        '--config-template',
        str(tmp_path / 'semi-{percent}pct.py'),
    ]
    result = semi.main(argv)

    # Read every fold's final numbers back from disk, independently.
    per_fold = []
    for fold in (1, 2):
        run = osp.join(runs, f'mask-rcnn_r50_fpn_coco-{fold}@20')
        with open(osp.join(run, 'transfer_report.json')) as f:
            assert json.load(f)['modules']['backbone']['loaded']
        scalars = glob.glob(osp.join(run, '*', 'vis_data', 'scalars.json'))
        lines = [json.loads(line) for line in open(scalars[0])]
        assert max(line.get('iter', 0) for line in lines) == 2  # two iterations
        per_fold.append([line for line in lines if 'coco/bbox_mAP' in line][-1])
        log = open(glob.glob(osp.join(run, '*', '*.log'))[0]).read()
        assert f'instances_train2017.{fold}@20.json' in log
    summary = result['20']
    for metric in ('coco/bbox_mAP', 'coco/segm_mAP'):
        values = [run[metric] for run in per_fold]
        assert summary[metric]['mean'] == pytest.approx(np.mean(values))
        assert summary[metric]['std'] == pytest.approx(np.std(values, ddof=1))
    assert osp.isfile(osp.join(runs, 'summary.csv')) and osp.isfile(
        osp.join(runs, 'summary.json')
    )

    # A second call skips both finished runs and gives the same summary.
    capsys.readouterr()
    again = semi.main(argv)
    assert capsys.readouterr().out.count('finished before, skipped') == 2
    assert again == result
