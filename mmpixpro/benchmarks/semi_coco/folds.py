"""Semi-supervised COCO (Table 6): every fold x percentage, then mean ± std.

Each run fine-tunes the config of its percentage on one labelled fold
(``{ann_dir}/instances_train2017.{fold}@{percent}.json``, written by
:func:`~.split.split_coco`) through ``tools/benchmarks/train.py`` (torchrun,
through ``dist_benchmark.sh``, when ``gpus`` > 1), in
``{work_root}/mask-rcnn_r50_fpn_coco-{fold}@{percent}``. A run that finished
before with the same checkpoint, config (with its ``_base_`` files) and
fold file (each by content), GPU count and options is skipped
(:mod:`.run_record`), so the same call can be repeated after an
interruption; with another checkpoint, an edited config or fold file, or
other options it runs again. At the end the folds are aggregated
(:func:`~.aggregate.aggregate_folds`) into ``{work_root}/summary.{csv,json}``.

The protocol is 8 GPUs x 2 images (``8xb2`` in the configs' names, and their
``auto_scale_lr.base_batch_size``): ``gpus`` defaults to 8, and the first
line says what total batch the runs get and, when it is not the protocol's,
how the learning rate follows.
"""

import os.path as osp
import subprocess
import sys
import time
from typing import Callable, List, NamedTuple, Optional, Sequence

from .aggregate import aggregate_folds
from .fold_inputs import fold_inputs
from .run_record import (
    clear_record,
    finished,
    run_identity,
    sha256_file,
    write_record,
)
from .split import format_percent

PROTOCOL_GPUS = 8  # the configs' 8xb2


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
    gpus: int = PROTOCOL_GPUS,
    cfg_options: Sequence[str] = (),
    auto_scale_lr: bool = False,
) -> List[str]:
    """The command line that fine-tunes ``checkpoint`` for ``run``."""
    options = ['--work-dir', run.work_dir]
    if auto_scale_lr:
        options.append('--auto-scale-lr')
    options += [
        '--cfg-options',
        f'train_dataloader.dataset.ann_file={run.ann_file}',
        *cfg_options,
    ]
    if gpus > 1:
        script = osp.join(tools_dir, 'benchmarks', 'dist_benchmark.sh')
        return ['bash', script, run.config, checkpoint, str(gpus), *options]
    script = osp.join(tools_dir, 'benchmarks', 'train.py')
    return [sys.executable, script, run.config, checkpoint, *options]


def batch_line(config: str, gpus: int, auto_scale_lr: bool) -> str:
    """One line: the runs' total batch against the protocol's, and what
    happens to the learning rate."""
    from mmengine.config import Config

    cfg = Config.fromfile(config)
    per_gpu = cfg.train_dataloader.batch_size
    base = cfg.get('auto_scale_lr', {}).get('base_batch_size', per_gpu * PROTOCOL_GPUS)
    total = gpus * per_gpu
    line = f'fold runs: {gpus} GPU(s) x {per_gpu} images = total batch {total}'
    if total == base:
        return f"{line}, the protocol's"
    if auto_scale_lr:
        return f"{line}, not the protocol's {base}: lr scaled by {total}/{base}"
    return (
        f"{line}, not the protocol's {base}, with the config's lr unscaled: "
        f'give --gpus {base // per_gpu}, or --auto-scale-lr'
    )


def check_gpus(gpus: int) -> None:
    """Refuse more GPUs per run than this machine has (none: CPU processes,
    as in the tests)."""
    if gpus < 1:
        raise ValueError(f'--gpus must be at least 1, got {gpus}')
    import torch

    if torch.cuda.is_available() and gpus > torch.cuda.device_count():
        have = torch.cuda.device_count()
        raise ValueError(
            f'--gpus {gpus} but this machine has {have} GPU(s): give --gpus '
            f'{have} --auto-scale-lr, or run where {gpus} are'
        )


def semi_coco(
    checkpoint: str,
    config_template: str,
    tools_dir: str,
    percents: Sequence[float] = (1.0, 10.0),
    folds: Sequence[int] = (1, 2, 3, 4, 5),
    gpus: Optional[int] = None,
    work_root: str = 'work_dirs/semi_coco',
    ann_dir: str = 'semi_anns',
    cfg_options: Sequence[str] = (),
    auto_scale_lr: bool = False,
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
        gpus: GPUs per run (torchrun when > 1); None: the protocol's 8.
        work_root: Where the runs and the summary go.
        ann_dir: Folder of the split files, relative to the config's
            ``data_root``.
        cfg_options: ``key=value`` options passed to every run.
        auto_scale_lr: Scale the lr with the total batch (``--auto-scale-lr``
            of every run).
        force: Run finished runs again.
        dry_run: Only log the commands (and which runs would be skipped).
        log: Called with a line per run and the aggregate table.

    Returns:
        The aggregate (:func:`~.aggregate.aggregate_folds`); ``{}`` for a dry
        run.

    Raises:
        FileNotFoundError: No checkpoint, or no config for a percentage.
        ValueError: More GPUs than this machine has.
        RuntimeError: A run failed.
    """
    say = log or (lambda line: None)
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint!r} not found')
    # the runs start in the repository: paths relative to here would miss
    checkpoint, work_root = osp.abspath(checkpoint), osp.abspath(work_root)
    gpus = PROTOCOL_GPUS if gpus is None else gpus
    if not dry_run:
        check_gpus(gpus)
    plan = plan_runs(config_template, percents, folds, work_root, ann_dir)
    say(batch_line(plan[0].config, gpus, auto_scale_lr))
    checkpoint_sha = sha256_file(checkpoint)
    run_dir = osp.dirname(osp.abspath(tools_dir))  # where the runs start
    start, durations = time.time(), []
    for index, run in enumerate(plan, 1):
        head = f'[{index}/{len(plan)}] fold {run.fold} @ {run.percent} %'
        inputs = fold_inputs(run.config, run.ann_file, cfg_options, run_dir)
        identity = run_identity(
            checkpoint_sha, inputs, run.ann_file, gpus, auto_scale_lr, cfg_options
        )
        done, why = finished(run.work_dir, identity)
        if done and not force:
            say(f'{head}: finished before, skipped ({run.work_dir})')
            continue
        cmd = train_command(
            run, checkpoint, tools_dir, gpus, cfg_options, auto_scale_lr
        )
        reason = ' (forced)' if done else f' ({why})' if why else ''
        say(f'{head}{reason}: {" ".join(cmd)}')
        if dry_run:
            continue
        clear_record(run.work_dir)
        began = time.time()
        result = subprocess.run(cmd, cwd=run_dir)
        if result.returncode != 0:
            raise RuntimeError(
                f'{head} failed (exit {result.returncode}); see {run.work_dir}'
            )
        write_record(run.work_dir, identity, checkpoint, run.config)
        durations.append(time.time() - began)
        left = len(plan) - index
        eta = sum(durations) / len(durations) * left / 60
        say(
            f'{head}: done in {durations[-1] / 60:.1f} min, '
            f'{(time.time() - start) / 60:.1f} min so far; {left} left '
            f'(about {eta:.0f} min at this pace)'
        )
    if dry_run:
        return {}
    return aggregate_folds(
        [run.work_dir for run in plan], out=osp.join(work_root, 'summary'), log=log
    )
