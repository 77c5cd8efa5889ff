""".dev_scripts/train_check.py: the GPU check's correctness run, on CPU
(ResNet-18, 64 px views, bf16 autocast for --amp)."""

import json
import os.path as osp

import pytest
from helpers import load_tool


@pytest.mark.slow
def test_paths_agree_and_the_resumed_run_keeps_the_checkpoints_path(tmp_path):
    """tools/train.py three times on the C5 config (one iteration an epoch):
    straight with the pixel head dense, straight with it in chunks of one
    row (C5 of 64 px: 2 x 2 cells, a block of 2 x 4 x 4 = 32 elements,
    bound 8), and resumed from the dense run's epoch 1 while launched with
    the chunked bound. On CPU the resumed epoch's losses are the dense run's,
    and the log says the checkpoint's bound was kept; the two paths' losses
    agree."""
    train_check = load_tool('.dev_scripts/train_check.py')
    argv = [str(tmp_path), '--configs', 'C5', '--batch', '2', '--size', '64']
    argv += ['--depth', '18', '--workers', '1', '--tolerance', '1e-5']
    argv += ['--iters-per-epoch', '1', '--chunked-max-elements', '8']
    report = train_check.main(argv)
    assert json.loads((tmp_path / 'train_check.json').read_text()) == report
    entry = report['results']['C5']
    assert report['ok'] and entry['ok'], entry
    assert entry['max_rel_diff'] <= 1e-5 and entry['paths_max_rel_diff'] <= 1e-5
    assert entry['kept_bound'] and entry['paths_ok']
    assert (entry['resumed_from'], entry['resumed_launched_with']) == (
        'dense',
        'chunked',
    )
    dense, chunked = entry['paths']['dense'], entry['paths']['chunked']
    assert (dense['max_elements'], chunked['max_elements']) == ('None', '8')
    assert len(dense['losses']) == len(chunked['losses']) == 2
    assert entry['resumed_losses'] == pytest.approx(dense['losses'][1:], rel=1e-5)
    assert dense['peak_memory_mib'] is None  # logged on CUDA only
    # the runs' own artefacts: the config, checkpoints of both epochs, logs
    root = tmp_path / 'C5'
    for name in (
        'config.py',
        'straight-dense/epoch_1.pth',
        'straight-chunked/epoch_2.pth',
        'resumed/epoch_2.pth',
    ):
        assert osp.isfile(root / name), name
    config = (root / 'config.py').read_text()
    assert 'channels_last=True' in config and "type='PixProLARS'" in config
    assert "type='SyncBN'" in config  # as configured; BN in one process
    log = (root / 'resumed.log').read_text()
    assert '--resume' in log.splitlines()[0]
    assert 'max_elements=None from the checkpoint replaces max_elements=8' in log
    log = (root / 'straight-dense.log').read_text()
    assert "type='CPUAutocastOptimWrapper'" in log  # --amp on CPU: bf16
    assert 'reverted to BatchNormXd' in log  # mmengine: SyncBN in one process
