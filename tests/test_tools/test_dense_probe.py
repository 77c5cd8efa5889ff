"""tools/analysis/dense_probe.py: a linear probe on frozen dense features."""

import os.path as osp

import pytest
import torch
from conftest import DEMO_CONFIG, REPO
from helpers import load_tool, pretrain, tiny_config

from mmpixpro.utils import toy_data

TOOL = osp.join(REPO, 'tools', 'analysis', 'dense_probe.py')
FPN_CONFIG = osp.join(REPO, 'configs', 'selfsup', 'pixpro_r50_fpn_head.py')
# The toy Cityscapes classes (train ids): road, building, sky, car.
TOY_CLASSES = ['road', 'building', 'sky', 'car']


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/analysis/dense_probe.py')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A real (two-iteration) pre-training checkpoint of the demo config."""
    return pretrain(DEMO_CONFIG, tmp_path_factory.mktemp('pretrain'), iters=2)


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toycity'))
    return toy_data.make_cityscapes(root, splits={'train': 8, 'val': 4})


# ------------------------------------------------------------ the parts
def test_scores_over_present_classes(tool):
    target = torch.tensor([[0, 0, 2, 2], [2, 2, 255, 255]])
    pred = torch.tensor([[0, 2, 2, 2], [2, 0, 5, 0]])
    conf = tool.confusion(pred, target, num_classes=19)
    assert conf.sum() == 6  # the ignored pixels are left out
    assert tool.present_classes(target, 19) == [0, 2]
    res = tool.scores(conf, [0, 2])
    # class 0: tp 1, fp 1, fn 1 -> 1/3; class 2: tp 3, fp 1, fn 1 -> 3/5
    assert res['IoU'] == pytest.approx({0: 1 / 3, 2: 3 / 5})
    assert res['mIoU'] == pytest.approx((1 / 3 + 3 / 5) / 2)
    assert res['aAcc'] == pytest.approx(4 / 6)


def test_labels_downsampled_at_cell_centres(tool):
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    labels[:, :4] = 255
    labels[:, 4:, 4:] = 13
    labels[:, 0, 0] = 7  # a top-left pixel: not a cell centre
    small = tool.downsample_labels(labels, (2, 2))
    assert small.tolist() == [[[255, 255], [0, 13]]]


def test_probe_training_is_seeded(tool):
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(6, 16, 3, 3, generator=gen)
    labels = torch.randint(0, 3, (6, 3, 3), generator=gen)
    labels[0] = 255  # an image without labels is skipped, not a NaN loss
    kwargs = dict(num_classes=19, epochs=3, batch_size=1, lr=0.1, log=None)
    probe_a, loss_a = tool.train_probe(feats, labels, seed=1, **kwargs)
    probe_b, loss_b = tool.train_probe(feats, labels, seed=1, **kwargs)
    probe_c, _ = tool.train_probe(feats, labels, seed=2, **kwargs)
    assert isinstance(probe_a, torch.nn.Conv2d) and probe_a.kernel_size == (1, 1)
    assert loss_a == loss_b and loss_a == loss_a  # equal, and not NaN
    torch.testing.assert_close(probe_a.weight, probe_b.weight)
    assert not torch.allclose(probe_a.weight, probe_c.weight)


# ------------------------------------------------------------- the tool
def test_probe_beats_chance(tool, checkpoint, data_root, capsys):
    out = tool.main(
        ['--config', DEMO_CONFIG, '--checkpoints', checkpoint, '--random',
         '--data-root', data_root, '--size', '256', '512', '--epochs', '30',
         '--batch-size', '8']
    )  # fmt: skip
    stdout = capsys.readouterr().out
    assert out['level'] == 'C5'
    assert out['feature_size'] == [8, 16]  # 256 x 512 / 32
    assert out['classes'] == TOY_CLASSES
    assert (out['num_train'], out['num_val']) == (8, 4)
    assert list(out['results']) == [checkpoint, 'random init']
    # A constant prediction scores mIoU <= 1/4 on four classes; the flat
    # colour regions are easy, so a working probe is far above (0.7 to 0.85 on
    # such images, 0.6 to 0.8 at the feature resolution).
    chance = 1 / len(out['classes'])
    for res in out['results'].values():
        assert res['mIoU'] > chance + 0.25
        assert res['mIoU_feat'] > chance + 0.15
        assert res['aAcc'] > 0.6
        assert list(res['IoU']) == TOY_CLASSES
        assert res['loss'] < 1.0  # from ln(19) = 2.9
    ours, rand = out['results'][checkpoint], out['results']['random init']
    assert ours['checkpoint'] == checkpoint and rand['checkpoint'] is None
    assert abs(ours['mIoU'] - rand['mIoU']) > 1e-4
    assert ours['IoU'] != rand['IoU']
    # progress and the table
    assert f'[1/2] {checkpoint}: C5 features 512x8x16' in stdout
    assert 'epoch 30/30' in stdout
    assert '| model | level | mIoU | aAcc |' in stdout
    row = f'| random init | C5 | {100 * rand["mIoU"]:.1f} |'
    assert row in stdout


def test_p_level_of_an_fpn_config(tool, data_root, tmp_path):
    config = str(tmp_path / 'fpn_tiny.py')
    tiny_config(FPN_CONFIG, tmp_path).dump(config)
    out = tool.main(
        ['--config', config, '--random', '--data-root', data_root, '--level',
         'P4', '--size', '64', '128', '--epochs', '2', '--max-images', '2']
    )  # fmt: skip
    assert out['level'] == 'P4'
    assert out['feature_size'] == [4, 8]  # stride 16
    assert (out['num_train'], out['num_val']) == (2, 2)
    assert list(out['results']) == ['random init']
    assert 0 <= out['results']['random init']['mIoU'] <= 1


def test_errors(tool, checkpoint, data_root, tmp_path):
    base = ['--config', DEMO_CONFIG, '--data-root', data_root]
    with pytest.raises(FileNotFoundError, match='data root'):
        tool.main(['--config', DEMO_CONFIG, '--random', '--data-root',
                   str(tmp_path / 'none')])  # fmt: skip
    with pytest.raises(FileNotFoundError, match='no train images'):
        tool.main(['--config', DEMO_CONFIG, '--random', '--data-root',
                   str(tmp_path)])  # fmt: skip
    with pytest.raises(FileNotFoundError, match='checkpoint'):
        tool.main([*base, '--checkpoints', str(tmp_path / 'none.pth')])
    with pytest.raises(FileNotFoundError, match='config'):
        tool.main(['--config', str(tmp_path / 'none.py'), '--random',
                   '--data-root', data_root])  # fmt: skip
    with pytest.raises(ValueError, match=r"unknown level.*'P3'.*\['C5'\]"):
        tool.main([*base, '--checkpoints', checkpoint, '--level', 'P3'])
    with pytest.raises(SystemExit):  # nothing to probe
        tool.main(base)
