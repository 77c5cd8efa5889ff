"""Smoke runs of a benchmark config (mmpixpro.benchmarks.smoke), through
``tools/benchmarks/train.py --smoke`` and through mmdet's own train.py on the
config that ``tools/misc/print_config.py --smoke`` writes: a few iterations,
precise BN and the evaluation on two batches, COCO scored on the images run,
and nothing that reads as trouble (no traceback, no mmdet "results ... is
empty" ERROR, no library warning)."""

import os.path as osp
import sys

import pytest
from conftest import REPO
from helpers import MASK_RCNN_FPN, log_of, own_train_py, run_cli
from mmengine.config import Config

from mmpixpro.benchmarks.smoke import smoke_config
from mmpixpro.testing import coco_split_folders, shrink_config, toy_data

MMDET_TRAIN = own_train_py('mmdet')
TROUBLE = ('Traceback', 'is empty', 'pkg_resources is deprecated', 'UserWarning')


@pytest.fixture(scope='module')
def small_mask_rcnn(tmp_path_factory):
    """The paper-protocol Mask R-CNN with the sizes of a CPU test (ResNet-18,
    128 x 96 images, generated COCO of 12 + 6 images) and everything else
    as configured: 90k iterations, precise BN over 3,200 images, mmdet's
    score threshold, the whole val set."""
    root = str(tmp_path_factory.mktemp('coco'))
    anns = toy_data.make_coco(root, splits={'train2017': 12, 'val2017': 6})
    cfg = shrink_config(
        Config.fromfile(MASK_RCNN_FPN),
        18,
        small_heads=True,
        crop_size=64,
        scale=(128, 96),
        data_root=root,
        batch_size=2,
        val_ann=anns['val2017'],
        dataset_edit=coco_split_folders,
    )
    path = str(tmp_path_factory.mktemp('config') / 'mask_rcnn_small.py')
    cfg.dump(path)
    return path


def test_smoke_config_shortens_every_stage(small_mask_rcnn):
    cfg = Config.fromfile(small_mask_rcnn)
    assert cfg.train_cfg.max_iters == 90000
    smoke_config(cfg, iters=3)
    assert cfg.train_cfg == dict(type='IterBasedTrainLoop', max_iters=3, val_interval=3)
    assert cfg.param_scheduler == []
    hooks = {h['type']: h for h in cfg.custom_hooks}
    assert hooks['mmpixpro.PreciseBNBeforeEvalHook']['num_samples'] == 4  # 2 x 2
    assert 'mmpixpro.ProtocolBatchHook' not in hooks
    assert 'mmpixpro.PretrainedTransferHook' in hooks
    assert cfg.val_dataloader.dataset.indices == 4
    assert cfg.val_evaluator.ann_file is None
    pack = cfg.val_dataloader.dataset.pipeline[-1]
    assert pack.type == 'PackDetInputs' and 'instances' in pack.meta_keys
    assert cfg.model.test_cfg.rcnn.score_thr == 0.0
    with pytest.raises(ValueError, match='--smoke'):
        smoke_config(Config.fromfile(small_mask_rcnn), iters=0)


def test_benchmark_train_smoke(small_mask_rcnn, demo_checkpoint, tmp_path):
    work_dir = tmp_path / 'smoke'
    result = run_cli(
        [
            sys.executable,
            osp.join(REPO, 'tools', 'benchmarks', 'train.py'),
            small_mask_rcnn,
            demo_checkpoint,
            '--smoke',
            '2',
            '--work-dir',
            str(work_dir),
        ],
        cwd=str(tmp_path),
    )
    log = log_of(work_dir)
    assert 'Iter(train) [2/2]' in log and 'Iter(train) [3/' not in log
    # precise BN over 2 batches of 2 images, not 3,200 images (all 6 batches)
    assert 'averaged over 2 batches of 2 x 1 images' in log
    # 4 of the 6 val images, in batches of 2, COCO-scored (boxes and masks)
    assert 'Iter(val) [2/2]' in log and 'Iter(val) [3/3]' not in log
    assert 'coco/bbox_mAP' in log and 'coco/segm_mAP' in log
    assert 'not the protocol batch' not in log
    for text in TROUBLE:
        assert text not in result.stderr + log, text
    assert osp.isfile(work_dir / 'iter_2.pth')


def test_mmdet_train_py_runs_the_printed_smoke_config(
    small_mask_rcnn, demo_checkpoint, tmp_path
):
    printed = run_cli(
        [
            sys.executable,
            osp.join(REPO, 'tools', 'misc', 'print_config.py'),
            small_mask_rcnn,
            '--smoke',
            '1',
        ],
        cwd=str(tmp_path),
    )
    config = tmp_path / 'smoke.py'
    config.write_text(printed.stdout)
    work_dir = tmp_path / 'mmdet'
    result = run_cli(
        [
            sys.executable,
            MMDET_TRAIN,
            str(config),
            '--work-dir',
            str(work_dir),
            '--cfg-options',
            f'load_from={demo_checkpoint}',
        ],
        cwd=str(tmp_path),
    )
    log = log_of(work_dir)
    assert 'Iter(train) [1/1]' in log and 'averaged over 2 batches' in log
    assert 'coco/segm_mAP' in log
    assert 'The testing results of the whole dataset is empty' not in log
    assert 'Traceback' not in result.stderr
