"""Test-only hook: on every rank but 0, opening ``transfer_report.json``
(or the temporary file it is written to first) raises, so a two-process
fine-tuning run fails if any other rank writes the report. Imported by a
test config (``custom_imports``, with tests/test_benchmarks on
``PYTHONPATH``)."""

import builtins
import os
import os.path as osp

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

REPORT = 'transfer_report.json'


@HOOKS.register_module()
class OnlyRankZeroWritesTheReport(Hook):
    """Before anything runs, make ``open`` / ``os.open`` of the report (or of
    its temporary file) raise on ranks > 0, and leave a marker that this rank
    is guarded."""

    priority = 'HIGHEST'

    def before_run(self, runner) -> None:
        if runner.rank == 0:
            return
        real_open, real_os_open = builtins.open, os.open

        def guard(file):
            if isinstance(file, str) and REPORT in osp.basename(file):
                raise PermissionError(f'rank {runner.rank} opened {file}')

        def guarded_open(file, *args, **kwargs):
            guard(file)
            return real_open(file, *args, **kwargs)

        def guarded_os_open(file, *args, **kwargs):
            guard(file)
            return real_os_open(file, *args, **kwargs)

        builtins.open, os.open = guarded_open, guarded_os_open
        marker = osp.join(runner.work_dir, f'guarded_rank{runner.rank}')
        with real_open(marker, 'w') as f:
            f.write('guarded\n')
