""".dev_scripts/train_check.py: the GPU check's correctness run, on CPU
(ResNet-18, 64 px views, bf16 autocast for --amp)."""

import json
import os.path as osp

import pytest
from helpers import load_tool


@pytest.mark.slow
def test_resumed_run_continues_with_the_straight_losses(tmp_path):
    """tools/train.py twice (straight, resumed from epoch 1) on the C5
    config: on CPU the resumed epoch's losses are the straight run's."""
    train_check = load_tool('.dev_scripts/train_check.py')
    argv = [str(tmp_path), '--configs', 'C5', '--batch', '2', '--size', '64']
    argv += ['--depth', '18', '--workers', '1', '--tolerance', '1e-5']
    report = train_check.main(argv)
    assert json.loads((tmp_path / 'train_check.json').read_text()) == report
    entry = report['results']['C5']
    assert report['ok'] and entry['ok'], entry
    assert entry['max_rel_diff'] <= 1e-5
    straight, resumed = entry['losses']['straight'], entry['losses']['resumed']
    assert len(straight) == 4 and len(resumed) == 2
    assert resumed == pytest.approx(straight[2:], rel=1e-5)
    assert entry['peak_memory_mib'] is None  # logged on CUDA only
    # the runs' own artefacts: the config, checkpoints of both epochs, logs
    root = tmp_path / 'C5'
    for name in ('config.py', 'straight/epoch_1.pth', 'resumed/epoch_2.pth'):
        assert osp.isfile(root / name), name
    config = (root / 'config.py').read_text()
    assert 'channels_last=True' in config and "type='PixProLARS'" in config
    assert "type='SyncBN'" in config  # as configured; BN in one process
    log = (root / 'resumed.log').read_text()
    assert '--resume' in log.splitlines()[0]
    log = (root / 'straight.log').read_text()
    assert "type='CPUAutocastOptimWrapper'" in log  # --amp on CPU: bf16
    assert 'reverted to BatchNormXd' in log  # mmengine: SyncBN in one process
