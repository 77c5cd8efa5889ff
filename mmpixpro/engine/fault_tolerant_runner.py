"""A Runner that resumes from the newest checkpoint that loads, also when
torchrun restarts it after a failure."""

import os
import os.path as osp
from typing import Callable, Optional

from mmengine.dist import all_gather_object, broadcast_object_list, master_only
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from mmpixpro.engine.checkpoint_checks import drop_code_fields, state_dict_mismatches
from mmpixpro.registry import RUNNERS
from mmpixpro.utils.decoding_breadcrumb import breadcrumbs
from mmpixpro.utils.no_follow import remove_if_planted

from .atomic_backend import AtomicLocalBackend
from .checkpoint_reader import read_checkpoint
from .decoder_crash import decoder_crash_error, worker_crash
from .hooks.unreadable_image_hook import UnreadableImageHook
from .refused_start import refusal_before, remember_refusal
from .resume_checkpoint import (
    LAST_CHECKPOINT,
    checkpoint_problem,
    ensure_room_for,
    newest_loadable_checkpoint,
    remove_stale_temp_files,
)
from .run_failure import record_failure, repeating_failure, stop_if_failed_before
from .runner_state import (
    checkpoint_to_load,
    current_train_iter,
    has_loaded,
    mark_loaded,
    resume_requested,
    set_checkpoint_to_load,
)
from .stale_lock import force_acquire
from .work_dir_lock import WorkDirBusyError, WorkDirLock


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

    Also:

    - One run per work dir: rank 0 holds the work dir's lock
      (:class:`WorkDirLock`) from before anything is written there, taken
      once the process group exists, so that every rank of a second run on
      it stops at once naming the holder (torchrun and slurm alike); its
      restarts by torchrun stop at once too (:mod:`.refused_start`).
      ``force_unlock = True`` (``--force-unlock``) takes over a lock left by
      a crashed node (:mod:`.stale_lock`). Before each checkpoint rank 0
      checks that its lock file is still the one it locked; a deleted or
      replaced one stops every rank.
    - ``last_checkpoint``, which mmengine's ``CheckpointHook`` writes with a
      plain ``open`` right after :meth:`save_checkpoint`, is never written
      through a link: a link planted at its name is removed first, with a
      warning (mmengine itself is not patched).
    - A checkpoint is data: it is read by mmpixpro's reader
      (``weights_only=True``, also for URLs; its tensor digest checked);
      ``meta['config']``, which mmengine's ``resume`` would execute as
      Python, is dropped with a warning; a file that does not load is one
      line naming it and why.
    - ``load_from`` must fit the model (same tensor names and shapes) unless
      the config sets ``load_from_strict = False``: a checkpoint of another
      architecture stops the run listing what does not fit.
    - The config is dumped into the work dir (atomically) once the run has
      loaded what it starts from: a start that fails leaves the last run's
      dump as it was.
    - A dataloader worker killed by an image decoder's crash stops the run
      naming the file, counted as unreadable and recorded as not worth
      retrying (:mod:`.decoder_crash`).
    """

    def __init__(self, *args, **kwargs) -> None:
        work_dir = kwargs['work_dir'] if 'work_dir' in kwargs else args[1]
        cfg = kwargs.get('cfg') or {}
        self._strict_load = bool(cfg.get('load_from_strict', True))
        self._force_unlock = bool(cfg.get('force_unlock', False))
        self._work_dir_lock = WorkDirLock(osp.abspath(work_dir))
        self._lock_notes = []  # logged once the logger exists
        self._config_dump_due, self._built = False, False
        try:
            super().__init__(*args, **kwargs)  # takes the lock in setup_env
        except BaseException:
            self._work_dir_lock.release()
            raise
        self._built = True
        for note in self._lock_notes:
            self.logger.warning(note)
        if self._work_dir_lock.held:
            self.logger.info(f'work dir held by this run: {self._work_dir_lock.path}')
        elif not self._work_dir_lock.supported and self.rank == 0:
            self.logger.warning(
                f'{self.work_dir} offers no file locks: nothing stops a second '
                'run from writing there at the same time'
            )

    def setup_env(self, env_cfg: dict) -> None:
        """mmengine's ``setup_env`` (the process group, among others), then
        the work dir's lock: rank 0 takes it and tells every rank whether it
        could (:meth:`_take_work_dir`)."""
        super().setup_env(env_cfg)
        self._take_work_dir()

    def _take_work_dir(self) -> None:
        """Every rank: stop a torchrun restart whose agent was refused the
        work dir before; else rank 0 takes the lock, and a busy work dir
        stops every rank with the same line naming the holder (remembered
        for torchrun's restarts, outside the work dir)."""
        lock, restarts = self._work_dir_lock, restart_count()
        notes = all_gather_object(refusal_before(lock.work_dir, restarts))
        earlier = next((note for note in notes if note), None)
        if earlier is not None:
            raise WorkDirBusyError(
                f'restart {restarts} by torchrun stops at once, as the first '
                f'attempt did: {earlier}'
            )

        def take() -> Optional[str]:
            try:
                if self._force_unlock and restarts == 0:
                    force_acquire(lock, self._lock_notes.append)
                else:
                    lock.acquire()
            except WorkDirBusyError as busy:
                return str(busy)
            return None

        busy = self._on_rank0(take)  # other errors are raised on every rank
        if busy is not None:
            if max_restarts() > 0:
                remember_refusal(lock.work_dir, busy)
            raise WorkDirBusyError(busy)

    def save_checkpoint(self, out_dir: str, filename: str, *args, **kwargs):
        """mmengine's ``save_checkpoint``, first stopping every rank if the
        work dir's lock file was deleted or replaced (another run may write
        there now); then rank 0 removes a link planted at ``last_checkpoint``,
        which mmengine's ``CheckpointHook`` writes next with a plain ``open``
        (here, because a hook subclass would have to copy mmengine's whole
        saving method)."""
        self._on_rank0(self._work_dir_lock.check)
        super().save_checkpoint(out_dir, filename, *args, **kwargs)
        if self.rank == 0:
            path = osp.join(self.work_dir, LAST_CHECKPOINT)
            planted = remove_if_planted(path)
            if planted is not None:
                self.logger.warning(f'{path} was {planted}: removed, never written')

    def train(self):
        """mmengine's ``train``; a failure that a restart would only repeat
        (:func:`~.run_failure.repeating_failure`) is recorded in the work dir
        first, so that workers torchrun restarts stop at once. The work
        dir's lock is given up when training ends, however it ends."""
        try:
            return self._train_naming_decoder_crashes()
        except Exception as error:
            failure = repeating_failure(error)
            if failure is not None:
                self._record_failure(failure)
            raise
        finally:
            self._work_dir_lock.release()

    def _train_naming_decoder_crashes(self):
        """mmengine's ``train``; a dataloader worker that a decoder crash
        killed is raised as :class:`~.decoder_crash.DecoderCrashError`
        naming the file (from the workers' breadcrumbs), counted by the
        ``UnreadableImageHook`` if there is one."""
        with breadcrumbs() as folder:
            try:
                return super().train()
            except Exception as error:
                crash = worker_crash(error, folder)
                if crash is None:
                    raise
                counters = [h for h in self.hooks if isinstance(h, UnreadableImageHook)]
                counted = [h.count_crash(self, crash.path) for h in counters]
                how = counted[0] if counted else 'no UnreadableImageHook to count it'
                raise decoder_crash_error(crash, how) from error

    def _record_failure(self, failure: BaseException) -> None:
        try:
            done = current_train_iter(self)
            path = record_failure(self.work_dir, failure, done)
        except OSError as e:  # e.g. the disk is full
            self.logger.error(f'could not record the failure in {self.work_dir}: {e}')
            return
        self.logger.error(
            f'failure recorded in {path}: workers that torchrun restarts stop '
            'at once; a fresh start (e.g. --resume after fixing it) removes it'
        )

    def load_or_resume(self) -> None:
        if has_loaded(self):
            return self._dump_config_when_due()
        restarts = restart_count()
        self._on_rank0(
            lambda: stop_if_failed_before(self.work_dir, restarts, self.logger.info)
        )
        if max_restarts() > 0:
            self.logger.info(
                f'torchrun restarts failed workers ({restarts} of {max_restarts()} '
                'restarts used); a restart resumes from the newest checkpoint'
            )
        requested = checkpoint_to_load(self)
        auto = resume_requested(self) and requested is None
        if auto or restarts > 0:
            path = self._on_rank0(lambda: self._newest(restarts))
            if path is not None:
                set_checkpoint_to_load(self, path, resume=True)
            elif auto:  # nothing to resume: start from scratch
                set_checkpoint_to_load(self, None, resume=False)
        elif resume_requested(self):
            self._on_rank0(lambda: self._check_requested(requested))
        super().load_or_resume()
        self._dump_config_when_due()

    def _dump_config_when_due(self) -> None:
        if self._config_dump_due:
            self._config_dump_due = False
            self.dump_config()

    @master_only
    def dump_config(self) -> None:
        """Dump the config into the work dir atomically, and only once the
        run has loaded what it starts from (mmengine dumps it while the
        Runner is built, before a failed start would show)."""
        if not self._built:  # called by Runner.__init__: dumped by load_or_resume
            self._config_dump_due = True
            return
        name = osp.basename(self.cfg.filename or f'{self.timestamp}.py')
        AtomicLocalBackend().put_text(self.cfg.dump(), osp.join(self.work_dir, name))

    def load_checkpoint(
        self,
        filename: str,
        map_location='cpu',
        strict: bool = False,
        revise_keys: list = [(r'^module.', '')],  # noqa: B006 - mmengine's default
    ):
        """mmengine's ``load_checkpoint`` through mmpixpro's reader
        (:func:`~.checkpoint_reader.read_checkpoint`: ``weights_only=True``,
        URLs downloaded first, the digest checked, a one-line error for a
        file that does not load), ``meta['config']`` dropped before
        ``resume`` could execute it, and ``load_from`` checked against the
        model (see the class docstring)."""
        checkpoint = read_checkpoint(filename, map_location=map_location)
        for key in drop_code_fields(checkpoint):
            self.logger.warning(
                f"{filename}: meta['{key}'] ignored: a checkpoint is data, and "
                'mmengine would run that text as Python'
            )
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        if not resume_requested(self) and self._strict_load:
            self._check_fits(filename, model, checkpoint, revise_keys)
        checkpoint = _load_checkpoint_to_model(
            model, checkpoint, strict, revise_keys=revise_keys
        )
        mark_loaded(self)
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    @staticmethod
    def _check_fits(filename, model, checkpoint, revise_keys) -> None:
        """Raise on every rank when ``load_from`` does not fit ``model``."""
        problems = state_dict_mismatches(model, checkpoint, revise_keys)
        if problems:
            raise RuntimeError(
                f'load_from {filename} does not fit the model of this config '
                f'({problems}): a checkpoint of another architecture or depth? '
                'Use a config of the same model, or set load_from_strict = '
                'False (--cfg-options load_from_strict=False) to load only '
                'the tensors that fit'
            )

    def _newest(self, restarts: int) -> Optional[str]:
        """Rank 0: the checkpoint to resume from, or ``None``."""
        if self._work_dir_lock.held:  # no other run writes here
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
