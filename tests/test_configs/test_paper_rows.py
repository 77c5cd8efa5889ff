"""Each row of the paper's pre-training tables has a config with its values."""

import glob
import os.path as osp

import pytest
from conftest import REPO
from mmengine.config import Config
from paper_rows import ALIASES, BEYOND, DEFAULTS, EXTRAS, FPN_HEAD, ROWS, VIT

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
        assert head.loss.loss_weight == 1.0  # the pixel loss unweighted
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
    elif roots == ['data/coco/train2017']:  # labels ignored
        out['data'] = 'coco'
    elif roots == ['data/coco/train2017', 'data/coco/unlabeled2017']:
        out['data'] = 'coco+unlabeled2017'
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
    named = set(EXTRAS) | set(ALIASES) | set(BEYOND) | set(VIT)
    assert configs - rows == named, (configs - rows) ^ named


@pytest.mark.parametrize('alias, target', ALIASES.items())
def test_former_names_are_one_line_aliases(alias, target):
    with open(osp.join(SELFSUP, alias)) as f:
        code = [ln for ln in f.read().splitlines() if ln and not ln.startswith('#')]
    assert code == [f"_base_ = '{target}'"]
    old, new = (Config.fromfile(osp.join(SELFSUP, n)) for n in (alias, target))
    assert old.to_dict() == new.to_dict()


def test_the_model_zoo_lists_every_row_with_the_papers_numbers():
    """The table of ``configs/selfsup/README.md`` (the docs' model zoo)."""
    with open(osp.join(SELFSUP, 'README.md')) as f:
        lines = f.read().splitlines()
    for table, row, config, _, paper in ROWS:
        hits = [
            line
            for line in lines
            if f'`{config}`' in line and f'| {table} |' in line and paper in line
        ]
        assert hits, (
            f'configs/selfsup/README.md: no table line for Table {table} '
            f'"{row}": {config} {paper}'
        )
    for config in list(EXTRAS) + list(ALIASES) + list(BEYOND) + list(VIT):
        assert any(line.startswith(f'| `{config}` |') for line in lines), config


def test_pixcontrast_and_pixpro_share_one_encoder():
    """Sec. 3.2: PixContrast and PixPro differ in the PPM and the loss only,
    so every Table 3 row has PixPro's projector (2048-4096-256)."""
    pixpro = Config.fromfile(osp.join(SELFSUP, ROWS[0][2])).model
    assert pixpro.projector.hid_channels == 4096
    table3 = {config for table, _, config, _, _ in ROWS if table == '3'}
    assert len(table3) == 8
    for config in table3:
        model = Config.fromfile(osp.join(SELFSUP, config)).model
        assert model.projector == pixpro.projector, config
        assert model.backbone == pixpro.backbone, config


def test_coco_stage_data_train2017_by_default_unlabeled2017_as_option():
    """Table 6's extra stage on "downstream unlabelled data": the train2017
    images (labels ignored); unlabeled2017 only in the named option."""
    row = 'pixpro_r50_p3-p6_8xb128-coslr-120e_coco.py'
    option = 'pixpro_r50_p3-p6_8xb128-coslr-120e_coco-with-unlabeled2017.py'
    default, extra = (Config.fromfile(osp.join(SELFSUP, c)) for c in (row, option))
    assert settings(default)['data'] == 'coco'
    assert default.train_dataloader.dataset == dict(
        type='ImageFolder',
        data_root='data/coco/train2017',
        pipeline=default.train_dataloader.dataset.pipeline,
    )
    assert settings(extra) == dict(settings(default), data='coco+unlabeled2017')
    # the same stage otherwise: model, schedule, hooks, the start checkpoint
    for key in ('model', 'param_scheduler', 'optim_wrapper', 'custom_hooks'):
        assert extra[key] == default[key], key
    fcos = Config.fromfile(
        osp.join(SELFSUP, 'pixpro_r50_fcos-fpn-head_8xb128-coslr-120e_coco.py')
    )
    assert settings(fcos)['data'] == 'coco'


def test_fcos_one_tower_reading_of_the_head_row():
    """Table 5 "+ head" read as "a head network of three successive
    convolutional layers": one tower, the detector's tower settings."""
    towers = Config.fromfile(osp.join(REPO, 'configs/_base_/fcos_fpn_head.py'))
    two = Config.fromfile(osp.join(SELFSUP, FPN_HEAD))
    one = Config.fromfile(
        osp.join(SELFSUP, 'pixpro_r50_fcos-fpn-one-tower_8xb128-coslr-100e_in1k.py')
    )
    head = one.model.bbox_head
    assert head.type == 'FCOSHeadTower' and head.stacked_convs == 3
    for key in ('in_channels', 'feat_channels', 'norm_cfg'):
        assert head[key] == towers.fcos_towers[key], key
    assert one.model.projector == dict(two.model.projector, in_channels=256)
    assert settings(one) == settings(two)  # FPN, levels, 3 convs, the rest
    for key in ('backbone', 'neck', 'head', 'out_levels'):
        assert one.model[key] == two.model[key], key
