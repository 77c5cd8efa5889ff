"""Each epoch draws new augmentations: the epoch is in the workers' seeds."""

import itertools

import torch
from conftest import DEMO_CONFIG
from helpers import tiny_config
from mmengine.runner import Runner

from mmpixpro.datasets.worker_seed import worker_seed_state


def test_every_epoch_rank_and_worker_gets_its_own_stream():
    grid = list(itertools.product(range(4), range(8), range(4)))  # epoch, rank, w
    states = {tuple(worker_seed_state(0, *key)) for key in grid}
    assert len(states) == len(grid)
    # reproducible from the seed (resume), and the seed matters
    assert (worker_seed_state(0, 3, 1, 2) == worker_seed_state(0, 3, 1, 2)).all()
    assert not (worker_seed_state(0, 3, 1, 2) == worker_seed_state(1, 3, 1, 2)).all()


def boxes_per_epoch(tmp_path, name, worker_seed_hook):
    """The crop boxes of the 12 photos in epochs 1 and 2 of the demo config's
    loader built by a Runner (one worker started afresh each epoch, the
    images in a fixed order), the Runner's ``before_train_epoch`` hooks
    called as its loop calls them; no model step (not needed)."""
    cfg = tiny_config(DEMO_CONFIG, tmp_path / name, max_epochs=2)
    cfg.train_dataloader.update(num_workers=1, persistent_workers=False)
    cfg.train_dataloader.sampler.shuffle = False
    if not worker_seed_hook:
        cfg.default_hooks.pop('worker_seed')
    cfg.visualizer.name = name
    runner = Runner.from_cfg(cfg)
    loader = runner.train_dataloader
    boxes = []
    for epoch in (0, 1):
        runner.train_loop._epoch = epoch
        runner.call_hook('before_train_epoch')
        coords = [s.coords for batch in loader for s in batch['data_samples']]
        boxes.append(torch.stack(coords))
    return boxes


def test_the_second_epoch_draws_other_crops_than_the_first(tmp_path):
    first, second = boxes_per_epoch(tmp_path, 'epoch_seeds', worker_seed_hook=True)
    assert first.shape == second.shape == (12, 2, 4)
    # every image gets other crop boxes in epoch 2
    assert (first - second).abs().flatten(1).amax(dim=1).min() > 1e-4
    # mmengine's seeds alone (no epoch term) replay epoch 1's crops
    first, second = boxes_per_epoch(tmp_path, 'mmengine_seeds', worker_seed_hook=False)
    assert torch.equal(first, second)
