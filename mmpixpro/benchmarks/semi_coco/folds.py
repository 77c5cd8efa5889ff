"""Semi-supervised COCO (Table 6): every fold x percentage, then mean ± std.

Each run fine-tunes the config of its percentage on one labelled fold
(``{ann_dir}/instances_train2017.{fold}@{percent}.json``, written by
:func:`~.split.split_coco`) through ``tools/benchmarks/train.py`` (torchrun,
through ``dist_benchmark.sh``, when ``gpus`` > 1), in
``{work_root}/mask-rcnn_r50_fpn_coco-{fold}@{percent}``. Finished runs (with
bbox mAP in their logs) are skipped, so the same call can be repeated after
an interruption. At the end the folds are aggregated
(:func:`~.aggregate.aggregate_folds`) into ``{work_root}/summary.{csv,json}``.
"""

import os.path as osp
import subprocess
import sys
import time
from typing import Callable, List, NamedTuple, Optional, Sequence

from .aggregate import aggregate_folds, read_run
from .split import format_percent


class FoldRun(NamedTuple):
    """One fine-tuning run of the plan."""

    fold: int
    percent: str  # as in file names: '1', '10', '0.5'
    config: str
    work_dir: str
    ann_file: str  # relative to the config's data_root


def plan_runs(
    config_template: str,
    percents: Sequence[float],
    folds: Sequence[int],
    work_root: str,
    ann_dir: str,
) -> List[FoldRun]:
    """Every fold of every percentage, percentages first.

    Raises:
        FileNotFoundError: No config for a percentage.
    """
    plan = []
    for percent in percents:
        name = format_percent(percent)
        config = config_template.format(percent=name)
        if not osp.isfile(config):
            raise FileNotFoundError(f'no config for {name} %: {config!r}')
        for fold in folds:
            work_dir = osp.join(work_root, f'mask-rcnn_r50_fpn_coco-{fold}@{name}')
            ann_file = f'{ann_dir}/instances_train2017.{fold}@{name}.json'
            plan.append(FoldRun(fold, name, config, work_dir, ann_file))
    return plan


def train_command(
    run: FoldRun,
    checkpoint: str,
    tools_dir: str,
    gpus: int = 1,
    cfg_options: Sequence[str] = (),
) -> List[str]:
    """The command line that fine-tunes ``checkpoint`` for ``run``."""
    options = [
        '--work-dir',
        run.work_dir,
        '--cfg-options',
        f'train_dataloader.dataset.ann_file={run.ann_file}',
        *cfg_options,
    ]
    if gpus > 1:
        script = osp.join(tools_dir, 'benchmarks', 'dist_benchmark.sh')
        return ['bash', script, run.config, checkpoint, str(gpus), *options]
    script = osp.join(tools_dir, 'benchmarks', 'train.py')
    return [sys.executable, script, run.config, checkpoint, *options]


def semi_coco(
    checkpoint: str,
    config_template: str,
    tools_dir: str,
    percents: Sequence[float] = (1.0, 10.0),
    folds: Sequence[int] = (1, 2, 3, 4, 5),
    gpus: int = 1,
    work_root: str = 'work_dirs/semi_coco',
    ann_dir: str = 'semi_anns',
    cfg_options: Sequence[str] = (),
    force: bool = False,
    dry_run: bool = False,
    log: Optional[Callable[[str], None]] = None,
) -> dict:
    """Run (or, with ``dry_run``, list) every fold, then aggregate.

    Args:
        checkpoint: PixPro checkpoint to fine-tune.
        config_template: Config path with ``{percent}`` (formatted like 1,
            10, 0.5).
        tools_dir: The project's ``tools/`` (the training scripts).
        percents, folds: The runs.
        gpus: GPUs per run (torchrun when > 1).
        work_root: Where the runs and the summary go.
        ann_dir: Folder of the split files, relative to the config's
            ``data_root``.
        cfg_options: ``key=value`` options passed to every run.
        force: Run finished runs again.
        dry_run: Only log the commands.
        log: Called with a line per run and the aggregate table.

    Returns:
        The aggregate (:func:`~.aggregate.aggregate_folds`); ``{}`` for a dry
        run.

    Raises:
        FileNotFoundError: No checkpoint, or no config for a percentage.
        RuntimeError: A run failed.
    """
    say = log or (lambda line: None)
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint!r} not found')
    plan = plan_runs(config_template, percents, folds, work_root, ann_dir)
    start = time.time()
    for index, run in enumerate(plan, 1):
        head = f'[{index}/{len(plan)}] fold {run.fold} @ {run.percent} %'
        if not force and not dry_run:
            try:
                read_run(run.work_dir)
                say(f'{head}: finished before, skipped ({run.work_dir})')
                continue
            except (FileNotFoundError, ValueError):
                pass
        cmd = train_command(run, checkpoint, tools_dir, gpus, cfg_options)
        say(f'{head}: {" ".join(cmd)}')
        if dry_run:
            continue
        result = subprocess.run(cmd, cwd=osp.dirname(osp.abspath(tools_dir)))
        if result.returncode != 0:
            raise RuntimeError(
                f'{head} failed (exit {result.returncode}); see {run.work_dir}'
            )
        say(f'{head}: done, {(time.time() - start) / 60:.1f} min so far')
    if dry_run:
        return {}
    return aggregate_folds(
        [run.work_dir for run in plan], out=osp.join(work_root, 'summary'), log=log
    )
