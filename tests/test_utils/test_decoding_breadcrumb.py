"""A dataloader worker's breadcrumb names the file it died decoding; only a
crash of the worker itself counts as the file's fault."""

import os
import signal

import pytest
from torch.utils.data import DataLoader, Dataset

from mmpixpro.engine.decoder_crash import dead_workers, worker_crash
from mmpixpro.utils.decoding_breadcrumb import (
    ENV,
    breadcrumbs,
    decoding,
    read_breadcrumb,
)


def test_the_breadcrumb_holds_the_path_only_while_decoding():
    assert ENV not in os.environ
    with breadcrumbs() as folder:
        assert os.environ[ENV] == folder
        assert oct(os.stat(folder).st_mode & 0o777) == '0o700'
        with decoding('/data/é x.png'):
            assert read_breadcrumb(folder, os.getpid()) == '/data/é x.png'
        assert read_breadcrumb(folder, os.getpid()) is None
        with pytest.raises(ValueError), decoding('/data/b.png'):
            raise ValueError('a decoder error is no crash')
        assert read_breadcrumb(folder, os.getpid()) is None
    assert ENV not in os.environ and not os.path.exists(folder)
    with decoding('/data/c.png'):  # no folder: nothing written, nothing fails
        pass


class DiesDecoding(Dataset):
    """Each item: the worker sends itself ``sig`` while decoding it."""

    def __init__(self, sig: int) -> None:
        self.sig = sig

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int):
        with decoding(f'/data/{index}.png'):
            os.kill(os.getpid(), self.sig)
        return index


@pytest.mark.parametrize(
    'sig, words',
    [(signal.SIGSEGV, 'Segmentation fault'), (signal.SIGABRT, 'Aborted')],
)
def test_a_worker_that_crashed_names_its_file(sig, words):
    with breadcrumbs() as folder:
        loader = DataLoader(DiesDecoding(sig), num_workers=1)
        with pytest.raises(RuntimeError, match='DataLoader worker') as info:
            next(iter(loader))
        crash = worker_crash(info.value, folder)
    assert crash.path == '/data/0.png' and crash.signal == words


def test_a_worker_killed_from_outside_is_not_the_files_fault():
    """SIGKILL (the out-of-memory killer, a person): a restart may help."""
    with breadcrumbs() as folder:
        loader = DataLoader(DiesDecoding(signal.SIGKILL), num_workers=1)
        with pytest.raises(RuntimeError, match='DataLoader worker') as info:
            next(iter(loader))
        assert list(dead_workers(info.value).values()) == ['Killed']
        assert worker_crash(info.value, folder) is None
