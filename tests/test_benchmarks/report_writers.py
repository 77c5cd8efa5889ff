"""Test-only hook: on every rank but 0, opening ``transfer_report.json``
raises, so a two-process fine-tuning run fails if any other rank writes the
report. Imported by a test config (``custom_imports``, with
tests/test_benchmarks on ``PYTHONPATH``)."""

import builtins
import os.path as osp

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

REPORT = 'transfer_report.json'


@HOOKS.register_module()
class OnlyRankZeroWritesTheReport(Hook):
    """Before anything runs, make ``open(.../transfer_report.json)`` raise on
    ranks > 0, and leave a marker that this rank is guarded."""

    priority = 'HIGHEST'

    def before_run(self, runner) -> None:
        if runner.rank == 0:
            return
        real_open = builtins.open

        def guarded_open(file, *args, **kwargs):
            if isinstance(file, str) and osp.basename(file) == REPORT:
                raise PermissionError(f'rank {runner.rank} opened {file}')
            return real_open(file, *args, **kwargs)

        builtins.open = guarded_open
        marker = osp.join(runner.work_dir, f'guarded_rank{runner.rank}')
        with real_open(marker, 'w') as f:
            f.write('guarded\n')
