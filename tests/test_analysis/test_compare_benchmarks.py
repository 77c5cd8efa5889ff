"""tools/analysis/compare_benchmarks.py: work dirs laid out as the benchmark
Runners leave them, with numbers given here, come out as the table (mean ±
std, Table 1 beside its rows), the CSV and the figure."""

import csv
import json
import os
import os.path as osp

import numpy as np
import pytest
from helpers import load_tool

from mmpixpro.analysis.compare_benchmarks import read_run
from mmpixpro.analysis.paper_table1 import COLUMNS, ROWS

VOC, FPN, CITY = (COLUMNS[c].config for c in ('voc', 'coco_fpn', 'cityscapes'))
# (config, checkpoint file, layout, logged metrics per seed)
RUNS = {
    'mocov2_voc_s0': (VOC, 'moco_v2_800ep_pretrain.pth.tar', 'MoCo v1 / v2 release',
                      {'pascal_voc/mAP': 0.571, 'pascal_voc/AP50': 0.823, 'pascal_voc/AP75': 0.640}),  # noqa: E501
    'mocov2_voc_s1': (VOC, 'moco_v2_800ep_pretrain.pth.tar', 'MoCo v1 / v2 release',
                      {'pascal_voc/mAP': 0.575, 'pascal_voc/AP50': 0.826, 'pascal_voc/AP75': 0.644}),  # noqa: E501
    'mocov2_voc_s2': (VOC, 'moco_v2_800ep_pretrain.pth.tar', 'MoCo v1 / v2 release',
                      {'pascal_voc/mAP': 0.579, 'pascal_voc/AP50': 0.829, 'pascal_voc/AP75': 0.651}),  # noqa: E501
    'pixpro_voc_s0': (VOC, 'pixpro_base_r50_400ep.pth', "the authors' PixPro release",
                      {'pascal_voc/mAP': 0.598, 'pascal_voc/AP50': 0.836, 'pascal_voc/AP75': 0.672}),  # noqa: E501
    'pixpro_voc_s1': (VOC, 'pixpro_base_r50_400ep.pth', "the authors' PixPro release",
                      {'pascal_voc/mAP': 0.604, 'pascal_voc/AP50': 0.840, 'pascal_voc/AP75': 0.680}),  # noqa: E501
    'ours_voc_s0': (VOC, 'epoch_100.pth', 'mmpixpro pre-training checkpoint',
                    {'pascal_voc/mAP': 0.583, 'pascal_voc/AP50': 0.828, 'pascal_voc/AP75': 0.659}),  # noqa: E501
    'mocov2_fpn_s0': (FPN, 'moco_v2_800ep_pretrain.pth.tar', 'MoCo v1 / v2 release',
                      {'coco/bbox_mAP': 0.402, 'coco/bbox_mAP_50': 0.600, 'coco/bbox_mAP_75': 0.441, 'coco/segm_mAP': 0.36}),  # noqa: E501
    'pixpro_city_s0': (CITY, 'pixpro_base_r50_400ep.pth', "the authors' PixPro release",
                       {'mIoU': 77.01, 'aAcc': 95.9}),  # noqa: E501
    'pixpro_city_s1': (CITY, 'pixpro_base_r50_400ep.pth', "the authors' PixPro release",
                       {'mIoU': 77.35, 'aAcc': 96.0}),  # noqa: E501
}  # fmt: skip
LABELS = ['moco_v2_800ep_pretrain=mocov2', 'pixpro_base_r50_400ep=pixpro400']


def write_run(root, name, config, checkpoint, layout, metrics, stamp='20240101_120000'):
    """A work dir as tools/benchmarks/train.py leaves it: the dumped config,
    the transfer report, mmengine's scalars (training lines, then the
    evaluation, then another training line)."""
    work = osp.join(root, name)
    os.makedirs(osp.join(work, stamp, 'vis_data'))
    with open(osp.join(work, f'{config}.py'), 'w') as f:
        f.write("default_scope = 'mmdet'\n")
    with open(osp.join(work, 'transfer_report.json'), 'w') as f:
        json.dump(dict(checkpoint=f'/ckpts/{checkpoint}', layout=layout), f)
    lines = [
        dict(lr=0.02, loss=1.5, time=0.5, iter=10, step=10),
        dict(metrics, step=100),
        dict(lr=0.02, loss=1.1, time=0.5, iter=110, step=110),
    ]
    with open(osp.join(work, stamp, 'vis_data', 'scalars.json'), 'w') as f:
        f.write('\n'.join(json.dumps(line) for line in lines) + '\n')
    return work


@pytest.fixture
def runs(tmp_path):
    root = str(tmp_path / 'work_dirs')
    for name, (config, ckpt, layout, metrics) in RUNS.items():
        write_run(root, name, config, ckpt, layout, metrics)
    return root


def expected(names, key, scale):
    values = [RUNS[n][3][key] * scale for n in names]
    std = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return float(np.mean(values)), std


def test_the_table_is_the_numbers_it_was_given(runs, tmp_path):
    out = str(tmp_path / 'out' / 'comparison')
    plot = str(tmp_path / 'out' / 'comparison.png')
    tool = load_tool('tools/analysis/compare_benchmarks.py')
    labels = [x for item in LABELS for x in ('--label', item)]
    rows = tool.main([runs, *labels, '--out', out, '--plot', plot])
    by = {(r['benchmark'], r['label']): r for r in rows}
    # Table 1's order: VOC, then COCO FPN, then Cityscapes; rows in its order
    assert [(r['benchmark'], r['label']) for r in rows] == [
        (VOC, 'MoCo v2 (800 ep)'),
        (VOC, 'PixPro (400 ep)'),
        (VOC, 'epoch_100'),
        (FPN, 'MoCo v2 (800 ep)'),
        (CITY, 'PixPro (400 ep)'),
    ]
    moco = by[VOC, 'MoCo v2 (800 ep)']
    seeds = ['mocov2_voc_s0', 'mocov2_voc_s1', 'mocov2_voc_s2']
    assert len(moco['runs']) == 3 and moco['metrics'] == ['AP', 'AP50', 'AP75']
    for i, key in enumerate(['pascal_voc/mAP', 'pascal_voc/AP50', 'pascal_voc/AP75']):
        mean, std = expected(seeds, key, 100)
        assert moco['mean'][i] == pytest.approx(mean)
        assert moco['std'][i] == pytest.approx(std)
    assert (moco['mean'][0], moco['std'][0]) == pytest.approx((57.5, 0.4))
    assert moco['paper'] == list(ROWS['mocov2'][1]['voc']) == [57.6, 82.7, 64.4]
    assert moco['layout'] == 'MoCo v1 / v2 release'
    ours = by[VOC, 'epoch_100']
    assert ours['paper'] is None and ours['std'] == [None, None, None]
    city = by[CITY, 'PixPro (400 ep)']
    assert city['metrics'] == ['mIoU'] and city['paper'] == [77.2]
    assert city['mean'][0] == pytest.approx(77.18)
    fpn = by[FPN, 'MoCo v2 (800 ep)']
    assert fpn['mean'] == pytest.approx([40.2, 60.0, 44.1]) and fpn['paper'][0] == 40.4

    with open(f'{out}.md') as f:
        table = f.read()
    assert (
        '| VOC07+12 det. (Faster R-CNN R50-C4) | MoCo v2 (800 ep) | MoCo v1 / v2 '
        'release | 3 | AP / AP50 / AP75 | 57.5 ± 0.4 / 82.6 ± 0.3 / 64.5 ± 0.6 | '
        '57.6 / 82.7 / 64.4 |'
    ) in table
    assert '| epoch_100 | mmpixpro pre-training checkpoint | 1 | AP / AP50 / AP75 | ' \
        '58.3 / 82.8 / 65.9 | - |' in table  # fmt: skip
    assert '| Cityscapes seg. (FCN R50) | PixPro (400 ep) |' in table
    assert '| 2 | mIoU | 77.2 ± 0.2 | 77.2 |' in table
    with open(f'{out}.csv') as f:
        lines = list(csv.DictReader(f))
    assert len(lines) == 3 * 3 + 3 + 1  # VOC rows x 3 metrics, FPN x 3, mIoU
    ap = next(r for r in lines if r['pre-trained'] == 'MoCo v2 (800 ep)'
              and r['metric'] == 'AP' and r['benchmark'] == VOC)  # fmt: skip
    assert float(ap['mean']) == pytest.approx(57.5) and ap['paper'] == '57.6'
    assert [float(v) for v in ap['values'].split()] == pytest.approx([57.1, 57.5, 57.9])
    assert ap['checkpoint'] == '/ckpts/moco_v2_800ep_pretrain.pth.tar'

    from helpers import read_png

    image = read_png(plot)
    assert image.shape[1] > image.shape[0] > 300  # one wide row of panels
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 50  # drawn, not blank


def test_runs_are_read_as_mmengine_writes_them(runs, tmp_path):
    # the newest timestamp folder with an evaluation wins; a line cut short
    # by a crash is skipped
    work = osp.join(runs, 'ours_voc_s0')
    later = osp.join(work, '20240102_090000', 'vis_data')
    os.makedirs(later)
    with open(osp.join(later, 'scalars.json'), 'w') as f:
        f.write(json.dumps({'pascal_voc/mAP': 0.6, 'step': 5}) + '\n{"pascal_vo')
    run = read_run(work)
    assert run.values[0] == pytest.approx(60.0) and np.isnan(run.values[1])
    # a link in the work dir is not followed
    os.makedirs(osp.join(runs, 'elsewhere', 'vis_data'))
    os.rename(
        osp.join(later, 'scalars.json'),
        osp.join(runs, 'elsewhere', 'vis_data', 'scalars.json'),
    )  # noqa: E501
    os.rmdir(later)
    os.rmdir(osp.dirname(later))
    os.symlink(osp.join(runs, 'elsewhere'), osp.join(work, '20240103_000000'))
    assert read_run(work).values[0] == pytest.approx(58.3)


def test_what_cannot_be_compared_stops_with_one_line(runs, tmp_path):
    tool = load_tool('tools/analysis/compare_benchmarks.py')
    with pytest.raises(FileNotFoundError, match='work dir not found'):
        tool.main([str(tmp_path / 'nope')])
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(ValueError, match='no work dir and holds none'):
        tool.main([str(empty)])
    with pytest.raises(ValueError, match='--label takes CHECKPOINT=LABEL'):
        tool.main([runs, '--label', 'mocov2'])
    # two checkpoints under one label would be averaged together: refused
    with pytest.raises(ValueError, match="are all labelled 'same'"):
        tool.main([runs, '--label', 'moco_v2_800ep_pretrain=same',
                   '--label', 'pixpro_base_r50_400ep=same'])  # fmt: skip
    bare = write_run(str(tmp_path), 'bare', VOC, 'x.pth', 'l', {'loss': 1.0})
    with pytest.raises(ValueError, match='no evaluation in any'):
        tool.main([bare])


def test_the_guide_shows_table1_as_the_tool_knows_it():
    """docs/en/user_guides/compare.md's Table 1 and its configs are those of
    mmpixpro/analysis/paper_table1.py, cell for cell."""
    from conftest import REPO

    with open(osp.join(REPO, 'docs', 'en', 'user_guides', 'compare.md')) as f:
        guide = f.read()
    for name, cells in ROWS.values():
        method, _, epochs = name.partition(' (')
        epochs = epochs.replace(' ep)', '') or '-'
        shown = [' / '.join(f'{v:.1f}' for v in cells[c]) for c in COLUMNS]
        assert f'| {method} | {epochs} | ' + ' | '.join(shown) + ' |' in guide, name
    for column in COLUMNS.values():
        assert f'/{column.config}.py` |' in guide
        assert osp.isfile(
            osp.join(REPO, 'configs', 'benchmarks',
                     'mmseg' if 'fcn' in column.config else 'mmdet',
                     f'{column.config}.py')
        )  # fmt: skip
