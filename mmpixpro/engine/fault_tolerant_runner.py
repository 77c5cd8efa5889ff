"""A Runner that resumes from the newest checkpoint that loads, also when
torchrun restarts it after a failure."""

import os
from typing import Callable, Optional

from mmengine.dist import broadcast_object_list
from mmengine.runner import Runner

from mmpixpro.registry import RUNNERS

from .resume_checkpoint import (
    checkpoint_problem,
    ensure_room_for,
    newest_loadable_checkpoint,
    remove_stale_temp_files,
)


def restart_count() -> int:
    """How often torchrun (``--max-restarts``) has restarted this worker."""
    return int(os.environ.get('TORCHELASTIC_RESTART_COUNT', '0') or 0)


def max_restarts() -> int:
    """How often torchrun may restart this worker (``--max-restarts``)."""
    return int(os.environ.get('TORCHELASTIC_MAX_RESTARTS', '0') or 0)


@RUNNERS.register_module()
class FaultTolerantRunner(Runner):
    """mmengine's ``Runner`` with a resume that survives faults.

    Subclassed because mmengine's ``load_or_resume`` resumes from whatever
    ``last_checkpoint`` names and fails on a damaged file. Here:

    - ``resume=True`` without ``load_from`` (``--resume`` without a value)
      takes the newest checkpoint of the work dir that loads; damaged newer
      ones are logged by path and skipped; none loading is an error listing
      every file tried; none at all starts from scratch.
    - A worker restarted by torchrun (``TORCHELASTIC_RESTART_COUNT`` > 0)
      does the same whatever the command said, once the work dir holds a
      checkpoint; before the first one it starts as the command said.
    - ``resume=True`` with a path: that file must load, or the run stops
      naming it and why (no fallback: the file was asked for).

    Rank 0 decides and broadcasts, so every rank resumes from the same file.
    Before resuming, rank 0 removes temporary files that interrupted atomic
    writes left, and stops if the next checkpoint would not fit on the disk.
    """

    def load_or_resume(self) -> None:
        if self._has_loaded:
            return None
        restarts = restart_count()
        if max_restarts() > 0:
            self.logger.info(
                f'torchrun restarts failed workers ({restarts} of {max_restarts()} '
                'restarts used); a restart resumes from the newest checkpoint'
            )
        auto = self._resume and self._load_from is None
        if auto or restarts > 0:
            path = self._on_rank0(lambda: self._newest(restarts))
            if path is not None:
                self._resume, self._load_from = True, path
            elif auto:
                self._resume = False  # nothing to resume: start from scratch
        elif self._resume:
            self._on_rank0(lambda: self._check_requested(self._load_from))
        return super().load_or_resume()

    def _newest(self, restarts: int) -> Optional[str]:
        """Rank 0: the checkpoint to resume from, or ``None``."""
        for path in remove_stale_temp_files(self.work_dir):
            self.logger.info(f'removed {path}, left by an interrupted write')
        why = f'restart {restarts} by torchrun' if restarts > 0 else 'resume'
        path = newest_loadable_checkpoint(self.work_dir, warn=self.logger.warning)
        if path is None:
            then = 'as the command said' if restarts > 0 else 'from scratch'
            self.logger.info(f'{why}: no checkpoint in {self.work_dir}; start {then}')
            return None
        self.logger.info(f'{why}: resuming from {path}, the newest checkpoint')
        ensure_room_for(path, self.work_dir)
        return path

    def _check_requested(self, path: str) -> None:
        """Rank 0: the checkpoint given with ``--resume PATH`` must load."""
        problem = checkpoint_problem(path)
        if problem is not None:
            raise RuntimeError(f'cannot resume from {path}: {problem}')
        ensure_room_for(path, self.work_dir)

    def _on_rank0(self, decide: Callable[[], object]) -> object:
        """Run ``decide`` on rank 0 and give every rank its result; its error
        is raised on every rank, so none waits for the others forever."""
        outcome, error = [None, None], None
        if self.rank == 0:
            try:
                outcome = [decide(), None]
            except Exception as e:  # noqa: BLE001 - raised below on every rank
                outcome, error = [None, f'{type(e).__name__}: {e}'], e
        broadcast_object_list(outcome, src=0)
        if error is not None:
            raise error
        if outcome[1] is not None:
            raise RuntimeError(f'rank 0 stopped the run: {outcome[1]}')
        return outcome[0]
