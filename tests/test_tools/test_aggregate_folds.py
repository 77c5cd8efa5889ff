"""tools/analysis/aggregate_folds.py on fake semi-supervised run directories
(the library: mmpixpro.benchmarks.semi_coco.aggregate)."""

import csv
import json
import os.path as osp

import numpy as np
import pytest
from conftest import REPO
from helpers import load_tool

AGGREGATE = osp.join(REPO, 'tools', 'analysis', 'aggregate_folds.py')

# (fold, percent) -> (bbox_mAP, segm_mAP) of the final evaluation.
FINAL = {
    (1, '1'): (0.1234, 0.1111),
    (2, '1'): (0.1420, 0.1305),
    (1, '10'): (0.2567, 0.2301),
    (2, '10'): (0.2711, 0.2489),
}


@pytest.fixture(scope='module')
def aggregate_folds():
    return load_tool('tools/analysis/aggregate_folds.py')


def write_scalars(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')


def make_run(root, fold, percent, bbox, segm=None, prefix='mask-rcnn_r50_fpn_coco'):
    """A work dir as mmengine leaves it: an older and a newer timestamp."""
    run = root / f'{prefix}-{fold}@{percent}'
    # Older run (e.g. before a resume): its numbers must be ignored.
    write_scalars(
        run / '20240101_000000' / 'vis_data' / 'scalars.json',
        [{'coco/bbox_mAP': 0.9, 'coco/segm_mAP': 0.9, 'step': 99}],
    )
    last = {'coco/bbox_mAP': bbox, 'step': 12}
    if segm is not None:
        last['coco/segm_mAP'] = segm
    write_scalars(
        run / '20240102_000000' / 'vis_data' / 'scalars.json',
        [
            {'lr': 0.02, 'loss': 1.5, 'step': 1},
            {'coco/bbox_mAP': bbox / 2, 'coco/segm_mAP': 0.01, 'step': 6},
            {'lr': 0.002, 'loss': 0.7, 'step': 12},
            last,
            {'lr': 0.002, 'loss': 0.6, 'step': 13},
        ],
    )
    return run


@pytest.fixture
def root(tmp_path):
    root = tmp_path / 'semi'
    for (fold, percent), (bbox, segm) in FINAL.items():
        make_run(root, fold, percent, bbox, segm)
    (root / 'not_a_run').mkdir()  # skipped: no fold@percent in the name
    return root


def expected(percent, index):
    values = [v[index] for (_, p), v in sorted(FINAL.items()) if p == percent]
    return np.mean(values), np.std(values, ddof=1), values


def test_root_mean_std_and_files(aggregate_folds, root, tmp_path, capsys):
    out = tmp_path / 'report' / 'semi'
    result = aggregate_folds.main(['--root', str(root), '--out', str(out)])
    printed = capsys.readouterr().out

    assert list(result) == ['1', '10']
    for percent in ('1', '10'):
        row = result[percent]
        assert row['n'] == 2
        assert [f['fold'] for f in row['folds']] == [1, 2]
        for index, metric in enumerate(('coco/bbox_mAP', 'coco/segm_mAP')):
            mean, std, values = expected(percent, index)
            assert [f[metric] for f in row['folds']] == pytest.approx(values)
            assert row[metric]['mean'] == pytest.approx(mean)
            assert row[metric]['std'] == pytest.approx(std)
            assert std > 0
            # The Markdown table: x100, one decimal.
            assert f'{mean * 100:.1f} ± {std * 100:.1f}' in printed
        assert any(
            line.startswith(f'| {percent} | 2 |') for line in printed.splitlines()
        )
    assert 'bbox mAP' in printed and 'segm mAP' in printed

    saved = json.loads(out.with_suffix('.json').read_text())
    assert list(saved) == ['1', '10']
    for percent in ('1', '10'):
        for index, metric in enumerate(('coco/bbox_mAP', 'coco/segm_mAP')):
            mean, std, values = expected(percent, index)
            assert saved[percent]['n'] == 2
            assert saved[percent][metric]['mean'] == pytest.approx(mean)
            assert saved[percent][metric]['std'] == pytest.approx(std)
            assert [f[metric] for f in saved[percent]['folds']] == pytest.approx(values)

    with open(out.with_suffix('.csv'), newline='') as f:
        rows = list(csv.DictReader(f))
    assert [r['percent'] for r in rows] == ['1', '10']
    for r in rows:
        assert r['n'] == '2'
        for index, name in enumerate(('bbox_mAP', 'segm_mAP')):
            mean, std, _ = expected(r['percent'], index)
            assert float(r[f'{name}_mean']) == pytest.approx(mean)
            assert float(r[f'{name}_std']) == pytest.approx(std)


def test_work_dirs_bbox_only_single_fold(aggregate_folds, tmp_path, capsys):
    runs = [
        make_run(tmp_path, 1, '0.5', 0.05),
        make_run(tmp_path, 2, '0.5', 0.07),
        make_run(tmp_path, 3, '2', 0.15),
    ]
    result = aggregate_folds.main(['--work-dirs', *map(str, runs)])
    printed = capsys.readouterr().out
    assert list(result) == ['0.5', '2']
    assert result['0.5']['coco/bbox_mAP']['mean'] == pytest.approx(0.06)
    assert result['0.5']['coco/bbox_mAP']['std'] == pytest.approx(
        np.std([0.05, 0.07], ddof=1)
    )
    # One fold: std is 0.
    assert result['2']['n'] == 1
    assert result['2']['coco/bbox_mAP'] == {'mean': pytest.approx(0.15), 'std': 0.0}
    # No segm in the runs: it is left out.
    assert all('coco/segm_mAP' not in row for row in result.values())
    assert 'segm' not in printed
    assert '15.0 ± 0.0' in printed


def test_empty_root(aggregate_folds, tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(ValueError, match='no run directories') as info:
        aggregate_folds.main(['--root', str(empty)])
    assert str(empty) in str(info.value)


def test_missing_root(aggregate_folds, tmp_path):
    with pytest.raises(FileNotFoundError, match='not found'):
        aggregate_folds.main(['--root', str(tmp_path / 'nope')])


def test_run_without_metrics(aggregate_folds, root):
    broken = root / 'mask-rcnn_r50_fpn_coco-3@10'
    write_scalars(
        broken / '20240102_000000' / 'vis_data' / 'scalars.json',
        [{'lr': 0.02, 'loss': 1.5, 'step': 1}],
    )
    with pytest.raises(ValueError, match='no coco/bbox_mAP') as info:
        aggregate_folds.main(['--root', str(root)])
    assert str(broken) in str(info.value)

    bare = root / 'mask-rcnn_r50_fpn_coco-4@10'
    bare.mkdir()
    with pytest.raises(ValueError) as info:
        aggregate_folds.main(['--work-dirs', str(bare)])
    assert str(bare) in str(info.value)
