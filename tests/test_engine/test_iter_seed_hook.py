"""IterSeedHook's seeds: one per (seed, iteration, rank), none a dataloader
worker's (the resume it makes exact: test_pixpro_swin_convnext.py)."""

from mmpixpro.datasets.worker_seed import worker_seed_state
from mmpixpro.engine.hooks.iter_seed_hook import iter_seed


def test_one_seed_per_iteration_and_rank_none_a_workers():
    seeds = {iter_seed(0, it, rank) for it in range(50) for rank in range(4)}
    assert len(seeds) == 200
    assert iter_seed(0, 7, 1) == iter_seed(0, 7, 1) != iter_seed(1, 7, 1)
    workers = {
        int(s[0]) << 32 | int(s[1])
        for s in (
            worker_seed_state(0, epoch, rank, worker)
            for epoch in range(50)
            for rank in range(4)
            for worker in range(8)
        )
    }
    assert not seeds & workers
