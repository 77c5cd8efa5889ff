""".dev_scripts/pixpro_speed/models: the configs at another depth."""

import torch
from conftest import REPO
from pixpro_speed.models import (
    STEP_CONFIGS,
    PooledCosineHead,
    config_in,
    step_config,
)

from mmpixpro.testing import walk_dicts


def test_step_configs_are_shrunk_for_one_process():
    for names in STEP_CONFIGS.values():
        path = config_in(REPO, names)
        configured = step_config(path, 50).model.channels_last
        for depth, channels_last in ((18, None), (34, not configured)):
            cfg = step_config(path, depth, channels_last)
            assert cfg.model.backbone.depth == depth
            norms = []
            walk_dicts(cfg._cfg_dict, lambda d: norms.append(d.get('norm_cfg')))
            assert 'SyncBN' not in {n['type'] for n in norms if n}
            expected = configured if channels_last is None else channels_last
            assert cfg.model.channels_last == expected


def test_pooled_cosine_head_is_minus_four_when_views_agree():
    feats = [torch.randn(2, 8, 3, 3)]
    coords = torch.zeros(2, 4)
    loss = PooledCosineHead().loss(feats, feats, feats, feats, coords, coords)
    assert torch.allclose(loss['loss'], torch.tensor(-4.0))
    other = [torch.randn(2, 8, 3, 3)]
    assert (
        PooledCosineHead().loss(feats, feats, other, other, coords, coords)['loss'] > -4
    )
