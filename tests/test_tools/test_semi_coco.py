"""The semi-supervised COCO pipeline end to end: split, fold runs, aggregate."""

import glob
import json
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
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
        type='mmpixpro.PretrainedTransferHook',
        rules=[
            dict(model='backbone.', checkpoint='backbone.', required=True),
            dict(model='neck.', checkpoint='neck.'),
        ],
    ),
    dict(type='mmpixpro.PreciseBNBeforeEvalHook', num_samples=4),
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
    options = [
        '--percents',
        '20',
        '--folds',
        '1',
        '2',
        '--gpus',
        '1',
        '--work-root',
        runs,
        '--config-template',
        str(tmp_path / 'semi-{percent}pct.py'),
    ]
    argv = [ckpt, *options]
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

    # Each run recorded what produced its numbers.
    for fold, final in zip((1, 2), per_fold):
        run = osp.join(runs, f'mask-rcnn_r50_fpn_coco-{fold}@20')
        with open(osp.join(run, 'fold_run.json')) as f:
            record = json.load(f)
        assert record['checkpoint']['path'] == osp.abspath(ckpt)
        assert record['metrics']['coco/bbox_mAP'] == final['coco/bbox_mAP']

    # A second call skips both finished runs and gives the same summary.
    capsys.readouterr()
    again = semi.main(argv)
    assert capsys.readouterr().out.count('finished before, skipped') == 2
    assert again == result

    # The same bytes under another name are the same checkpoint ...
    copy = str(tmp_path / 'copy.pth')
    shutil.copy(ckpt, copy)
    semi.main([copy, *options, '--dry-run'])
    assert capsys.readouterr().out.count('finished before, skipped') == 2
    # ... another checkpoint (here: the same weights, saved again with other
    # meta) or other options run again (listed by a dry run)
    other = torch.load(ckpt, weights_only=True)
    other['meta']['note'] = 'another checkpoint'
    torch.save(other, str(tmp_path / 'other.pth'))
    for extra, why in (
        (['--dry-run'], 'finished before with another checkpoint'),
        (['--dry-run', '--cfg-options', 'seed=3'], 'another --cfg-options'),
        (['--dry-run', '--force'], 'forced'),
    ):
        target = str(tmp_path / 'other.pth') if extra == ['--dry-run'] else ckpt
        semi.main([target, *options, *extra])
        out = capsys.readouterr().out
        assert 'skipped' not in out and out.count(why) == 2, out


def test_the_protocols_gpu_count_and_what_another_gives(tmp_path, capsys):
    """A dry run of the real configs: 8 GPUs unless told, and one line at the
    start with the total batch against the protocol's 8 x 2."""
    ckpt = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': {}}, str(ckpt))
    semi = load_tool('tools/benchmarks/semi_coco.py')
    base = [
        str(ckpt),
        '--percents',
        '10',
        '--folds',
        '1',
        '--dry-run',
        '--work-root',
        str(tmp_path / 'runs'),
    ]
    cases = (
        (
            [],
            "8 GPU(s) x 2 images = total batch 16, the protocol's",
            '-ms-12e_coco-10pct_paper-arch.py ' + str(ckpt) + ' 8 --work-dir',
        ),  # dist_benchmark.sh CONFIG CHECKPOINT GPUS
        (
            ['--gpus', '1'],
            "1 GPU(s) x 2 images = total batch 2, not the protocol's "
            "16, with the config's lr unscaled: give --gpus 8, or --auto-scale-lr",
            'benchmarks/train.py',
        ),
        (
            ['--gpus', '2', '--auto-scale-lr'],
            "2 GPU(s) x 2 images = total batch 4, not the protocol's 16: lr scaled "
            'by 4/16',
            '--auto-scale-lr',
        ),
    )
    for extra, line, command in cases:
        assert semi.main(base + extra) == {}
        lines = capsys.readouterr().out.splitlines()
        assert lines[0] == f'fold runs: {line}'
        assert command in lines[1]


def test_results_without_a_record_are_run_again(tmp_path, capsys):
    """A fold folder with metrics but no record of what produced them (an
    older version's run, or someone's copy) is not taken as finished."""
    run = tmp_path / 'runs' / 'mask-rcnn_r50_fpn_coco-1@10'
    scalars = run / '20240101_000000' / 'vis_data' / 'scalars.json'
    scalars.parent.mkdir(parents=True)
    scalars.write_text(json.dumps({'coco/bbox_mAP': 0.3, 'step': 12}) + '\n')
    ckpt = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': {}}, str(ckpt))
    semi = load_tool('tools/benchmarks/semi_coco.py')
    semi.main(
        [
            str(ckpt),
            '--percents',
            '10',
            '--folds',
            '1',
            '--dry-run',
            '--work-root',
            str(tmp_path / 'runs'),
        ]
    )
    out = capsys.readouterr().out
    assert 'skipped' not in out and f'--work-dir {run}' in out


# Stands in for tools/benchmarks/train.py (a Mask R-CNN fine-tuning is
# minutes): writes the metrics a finished run leaves, in a folder of its own.
STAND_IN_TRAIN = """\
import json, os, sys
work_dir = sys.argv[sys.argv.index('--work-dir') + 1]
os.makedirs(work_dir, exist_ok=True)
stamp = f'2024010{len(os.listdir(work_dir)) + 1}_000000'
scalars = os.path.join(work_dir, stamp, 'vis_data', 'scalars.json')
os.makedirs(os.path.dirname(scalars))
with open(scalars, 'w') as f:
    f.write(json.dumps({'coco/bbox_mAP': 0.3, 'step': 12}) + '\\n')
"""


def test_a_fold_runs_again_when_a_base_config_or_the_fold_file_changes(tmp_path):
    """The record identifies the config with its ``_base_`` files and the
    fold file by content: editing a value in the ``_base_`` file, or the
    fold file under the same name, runs the fold again (a comment does not)."""
    from mmpixpro.benchmarks.semi_coco import semi_coco

    tools = tmp_path / 'tools'
    (tools / 'benchmarks').mkdir(parents=True)
    (tools / 'benchmarks' / 'train.py').write_text(STAND_IN_TRAIN)
    fold = tmp_path / 'coco' / 'semi_anns' / 'instances_train2017.1@10.json'
    fold.parent.mkdir(parents=True)
    fold.write_text(json.dumps({'images': [{'id': 1}], 'annotations': []}))
    base = tmp_path / 'configs' / 'base.py'
    base.parent.mkdir()
    base_text = (
        f'train_dataloader = dict(batch_size=2, dataset=dict(data_root='
        f'{str(fold.parents[1]) + "/"!r}))\noptim_wrapper = dict(lr=0.02)\n'
    )
    base.write_text(base_text)
    (base.parent / 'fold_10pct.py').write_text("_base_ = './base.py'\n")
    ckpt = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': {}}, str(ckpt))

    def run_line() -> str:
        lines = []
        semi_coco(
            str(ckpt),
            str(base.parent / 'fold_{percent}pct.py'),
            str(tools),
            percents=(10,),
            folds=(1,),
            gpus=1,
            work_root=str(tmp_path / 'runs'),
            log=lines.append,
        )
        return '\n'.join(line for line in lines if line.startswith('[1/1]'))

    assert 'done in' in run_line()
    assert 'finished before, skipped' in run_line()
    base.write_text(base_text + '# a comment changes nothing\n')
    assert 'finished before, skipped' in run_line()
    base.write_text(base_text.replace('0.02', '0.01'))
    line = run_line()
    assert 'finished before with another config (or its _base_ files)' in line, line
    assert 'finished before, skipped' in run_line()
    fold.write_text(json.dumps({'images': [{'id': 2}], 'annotations': []}))
    line = run_line()
    assert 'finished before with another fold file content' in line, line
    assert 'finished before, skipped' in run_line()
