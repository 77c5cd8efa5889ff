"""tools/analysis/dense_probe.py: a linear probe on frozen dense features."""

import pytest
from conftest import DEMO_CONFIG
from helpers import load_tool

from mmpixpro.testing import toy_data

# The toy Cityscapes classes (train ids): road, building, sky, car.
TOY_CLASSES = ['road', 'building', 'sky', 'car']


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/analysis/dense_probe.py')


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toycity'))
    return toy_data.make_cityscapes(root, splits={'train': 8, 'val': 4})


def test_probe_beats_chance(tool, demo_checkpoint, data_root, capsys):
    checkpoint = demo_checkpoint
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


def test_p_level_of_an_fpn_config(tool, data_root, fpn_head_setup):
    out = tool.main(
        ['--config', fpn_head_setup[0], '--random', '--data-root', data_root,
         '--level', 'P4', '--size', '64', '128', '--epochs', '2', '--max-images',
         '2']
    )  # fmt: skip
    assert out['level'] == 'P4'
    assert out['feature_size'] == [4, 8]  # stride 16
    assert (out['num_train'], out['num_val']) == (2, 2)
    assert list(out['results']) == ['random init']
    assert 0 <= out['results']['random init']['mIoU'] <= 1


def test_errors(tool, demo_checkpoint, data_root, tmp_path):
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
        tool.main([*base, '--checkpoints', demo_checkpoint, '--level', 'P3'])
    with pytest.raises(SystemExit):  # nothing to probe
        tool.main(base)
