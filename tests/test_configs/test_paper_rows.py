"""Each row of the paper's pre-training tables has a config with its values."""

import glob
import os.path as osp

import pytest
from conftest import REPO
from mmengine.config import Config
from paper_rows import ALIASES, DEFAULTS, EXTRAS, ROWS

SELFSUP = osp.join(REPO, 'configs', 'selfsup')
NECKS = {
    'mask-rcnn': Config.fromfile(osp.join(REPO, 'configs/_base_/mask_rcnn_fpn.py'))[
        'mask_rcnn_neck'
    ],
    'fcos': Config.fromfile(osp.join(REPO, 'configs/_base_/fcos_fpn_head.py'))[
        'fcos_neck'
    ],
}


def settings(cfg: Config) -> dict:
    """The row settings of a merged pre-training config, read from its keys."""
    model = cfg.model
    head = model.get('head')
    out = dict(DEFAULTS)
    neck = model.get('neck')
    out['fpn'] = next((k for k, v in NECKS.items() if neck == v), neck and 'other')
    if head is None:
        for key in ('output', 'threshold', 'ppm', 'gamma', 'layers', 'loss'):
            out[key] = None
        out['projector_hidden'] = None
        assert model.get('projector') is None
    else:
        if neck is None:
            assert model.backbone.out_indices == (3,)
            out['output'] = 'C5'
        else:
            levels = list(model.out_levels)
            assert levels == [
                f'P{i}' for i in range(int(levels[0][1]), int(levels[-1][1]) + 1)
            ]
            out['output'] = (
                levels[0] if len(levels) == 1 else f'{levels[0]}-{levels[-1]}'
            )
        out['threshold'] = head.pos_threshold
        ppm = head.get('ppm')
        if ppm is None:
            out['ppm'] = out['gamma'] = out['layers'] = None
        elif ppm.type == 'PixelPropagationModule':
            out['ppm'], out['gamma'], out['layers'] = 'PPM', ppm.gamma, ppm.num_layers
        else:
            assert (ppm.type, ppm.kernel_size, ppm.in_channels, ppm.out_channels) == (
                'Conv2d',
                1,
                256,
                256,
            )
            out['ppm'] = 'linear'
            out['gamma'] = out['layers'] = None
        out['loss'] = head.loss.type
        assert head.loss.skip_empty is True  # the paper skips pairless images
        out['temperature'] = head.loss.get('temperature')
        out['projector_hidden'] = model.projector.hid_channels
    bbox_head = model.get('bbox_head')
    out['towers'] = bbox_head and bbox_head.stacked_convs
    inst = model.get('instance_head')
    if inst is not None:
        out['instance'] = dict(
            loss=inst.loss.type,
            temperature=inst.loss.get('temperature'),
            predictor=inst.get('predictor') is not None,
        )
    epochs = cfg.train_cfg.max_epochs
    assert cfg.param_scheduler[-1].end == epochs  # the cosine ends with the run
    out['epochs'] = epochs
    dataset = cfg.train_dataloader.dataset
    roots = [d.data_root for d in dataset.get('datasets', [dataset])]
    if roots == ['data/imagenet/train/']:
        out['data'] = 'imagenet'
    elif roots == ['data/coco/train2017', 'data/coco/unlabeled2017']:
        out['data'] = 'coco'
    else:
        out['data'] = roots
    return out


@pytest.mark.parametrize(
    'table, row, config, changes, paper',
    ROWS,
    ids=[f'{r[0]}: {r[1]}' for r in ROWS],
)
def test_row_settings(table, row, config, changes, paper):
    cfg = Config.fromfile(osp.join(SELFSUP, config))
    expected = dict(DEFAULTS, **changes)
    assert settings(cfg) == expected
    # every row: 8 GPUs x 128 images, LARS lr 4.0 (1.0 x 1024 / 256)
    assert cfg.train_dataloader.batch_size == 128
    assert cfg.optim_wrapper.optimizer.lr == 4.0


def test_every_config_is_a_row_or_a_named_extra():
    configs = {osp.basename(p) for p in glob.glob(osp.join(SELFSUP, '*.py'))}
    rows = {r[2] for r in ROWS}
    assert rows <= configs, rows - configs
    assert configs - rows == set(EXTRAS) | set(ALIASES), configs - rows


@pytest.mark.parametrize('alias, target', ALIASES.items())
def test_former_names_are_one_line_aliases(alias, target):
    with open(osp.join(SELFSUP, alias)) as f:
        code = [ln for ln in f.read().splitlines() if ln and not ln.startswith('#')]
    assert code == [f"_base_ = '{target}'"]
    old, new = (Config.fromfile(osp.join(SELFSUP, n)) for n in (alias, target))
    assert old.to_dict() == new.to_dict()


def test_readme_lists_every_row_with_the_papers_numbers():
    with open(osp.join(REPO, 'README.md')) as f:
        lines = f.read().splitlines()
    for table, row, config, _, paper in ROWS:
        hits = [
            line
            for line in lines
            if f'`{config}`' in line and f'| {table} |' in line and paper in line
        ]
        assert hits, (
            f'README: no table line for Table {table} "{row}": {config} {paper}'
        )
