"""The training tools' run options (mmpretrain's: ``--work-dir``,
``--resume``, ``--amp``, ``--auto-scale-lr``, ``--cfg-options``, plus
``--force-unlock``), applied to a config before anything is built.

What it guarantees: a ``--cfg-options`` value of the wrong type, a run that
would train nothing and data roots that do not exist stop the tool at once,
in one line, before a Runner starts; every rank derives the same settings
from the config and the device type (never from free memory: the pixel
head's bound, ``gloo`` without GPUs); advice names an option only if the
running script takes it (:func:`option_hint`).
"""

import argparse
import os
import os.path as osp
import sys
from typing import Optional, Set

import torch
from mmengine.config import Config, DictAction

from mmpixpro.utils.cli import add_debug_arg
from mmpixpro.utils.data_roots import check_data_roots

from .cpu_distributed import setup_cpu_distributed

RUN_OPTIONS = ('--work-dir', '--resume', '--amp', '--auto-scale-lr', '--cfg-options')
# RUN_OPTIONS once this project's training parser was built in this process.
_OUR_OPTIONS: Set[str] = set()


def script_accepts(option: str) -> bool:
    """Whether the script running this process takes ``option``: this
    project's training tools (their parser was built here), or a script
    whose source names it (mmdet's and mmpretrain's train.py take
    ``--auto-scale-lr``, mmseg's does not)."""
    if option in _OUR_OPTIONS:
        return True
    path = getattr(sys.modules.get('__main__'), '__file__', None)
    try:
        with open(path, encoding='utf-8') as f:
            source = f.read()
    except (OSError, TypeError):
        return False
    return f"'{option}'" in source or f'"{option}"' in source


def option_hint(option: str, cfg_option: str) -> str:
    """``option`` if the running script takes it, else the same setting as
    ``--cfg-options cfg_option``, which every OpenMMLab train.py takes."""
    return option if script_accepts(option) else f'--cfg-options {cfg_option}'


def add_run_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--work-dir``, ``--resume``, ``--amp``, ``--auto-scale-lr``,
    ``--cfg-options``, ``--launcher``, ``--local-rank``, ``--force-unlock``,
    ``--debug``."""
    parser.add_argument('--work-dir', help='where logs and checkpoints are written')
    parser.add_argument(
        '--force-unlock',
        action='store_true',
        help="take over the work dir's lock left by a crashed node (refused "
        'while its holder is alive on this host)',
    )
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or (no value) from the newest '
        'checkpoint of the work dir that loads (damaged ones are skipped)',
    )
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: fp16 with loss scaling on a GPU, bf16 on CPU',
    )
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale lr linearly with the real total batch size',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value (e.g. model.head.pos_threshold=0.6)',
    )
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher',
    )
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_debug_arg(parser)
    _OUR_OPTIONS.update(RUN_OPTIONS)
    return parser


def merge_run_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the options of :func:`add_run_args` to ``cfg``; check that its
    training and validation data roots exist (one line if not)."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if args.cfg_options is not None:
        check_option_types(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)
    check_run_length(cfg)
    check_data_roots(cfg)
    use_device_bound(cfg)
    cfg.launcher = args.launcher
    cfg.work_dir = work_dir_of(cfg, args)
    if args.amp:
        use_amp(cfg)
    if args.resume is not None:
        use_resume(cfg, args.resume)
    if args.force_unlock:
        cfg.force_unlock = True  # read by FaultTolerantRunner, at a fresh start
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise KeyError('--auto-scale-lr needs `auto_scale_lr` in the config')
        cfg.auto_scale_lr.enable = True
    if args.launcher != 'none' and not torch.cuda.is_available():
        # NCCL needs GPUs; gloo runs the same job on CPU processes.
        cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
        setup_cpu_distributed(cfg)
    return cfg


MISSING = object()


def config_value(cfg, key: str):
    """The value at dotted ``key`` (list items by index), or ``MISSING``."""
    node = cfg.to_dict() if isinstance(cfg, Config) else cfg
    for part in key.split('.'):
        if isinstance(node, (list, tuple)) and part.isdigit():
            node = node[int(part)] if int(part) < len(node) else MISSING
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return MISSING
        if node is MISSING:
            return MISSING
    return node


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_option_types(cfg: Config, options: dict) -> None:
    """Refuse a ``--cfg-options`` value whose type cannot replace the
    config's: text for a number or a switch (the run would fail much later,
    deep inside, without naming the key)."""
    for key, new in options.items():
        old = config_value(cfg, key)
        if old is MISSING or old is None or not isinstance(new, str):
            continue
        if is_number(old) or isinstance(old, bool):
            kind = 'a number' if is_number(old) else 'True or False'
            raise TypeError(
                f'--cfg-options {key}={new}: the config has {key}={old!r}; give {kind}'
            )


def check_run_length(cfg: Config) -> None:
    """Refuse a run that would train nothing (``max_epochs`` / ``max_iters``
    below 1) and end as if it had succeeded."""
    train_cfg = cfg.get('train_cfg') or {}
    for key in ('max_epochs', 'max_iters'):
        value = train_cfg.get(key)
        if is_number(value) and value < 1:
            raise ValueError(
                f'train_cfg.{key}={value} would train nothing: give at least 1'
            )


def work_dir_of(cfg: Config, args: argparse.Namespace) -> str:
    """``--work-dir``, else the config's, else ``work_dirs/<config name>``."""
    if args.work_dir is not None:
        return args.work_dir
    if cfg.get('work_dir', None) is not None:
        return cfg.work_dir
    return osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])


def use_amp(cfg: Config) -> None:
    """``--amp``: fp16 with dynamic loss scaling on a GPU, bf16 on CPU."""
    optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if optim_wrapper not in ('OptimWrapper', 'AmpOptimWrapper'):
        raise ValueError(f'--amp does not apply to {optim_wrapper}')
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:  # mmengine's AmpOptimWrapper needs a GPU; bf16 needs no scaling
        cfg.optim_wrapper.type = 'CPUAutocastOptimWrapper'
        cfg.optim_wrapper.dtype = 'bfloat16'
        cfg.optim_wrapper.pop('loss_scale', None)


def use_device_bound(cfg: Config, device_type: Optional[str] = None) -> None:
    """The pixel head's ``max_elements`` for this run's device type.

    A config's ``pixel_max_elements`` maps a device type to the bound on the
    head's blocks (dense below it, checkpointed chunks above); the entry of
    ``device_type`` (default: ``cuda`` when a GPU is visible, else ``cpu``,
    the same on every rank) becomes ``model.head.max_elements`` unless the
    config or ``--cfg-options`` give that. A resumed run keeps the bound its
    checkpoint recorded (``PixelHead``)."""
    bounds = cfg.get('pixel_max_elements')
    head = (cfg.get('model') or {}).get('head')
    if bounds is None or not isinstance(head, dict) or 'max_elements' in head:
        return
    device_type = device_type or ('cuda' if torch.cuda.is_available() else 'cpu')
    if device_type not in bounds:
        raise KeyError(
            f'pixel_max_elements {dict(bounds)} has no entry for {device_type!r}'
        )
    head.max_elements = bounds[device_type]


def use_resume(cfg: Config, resume: str) -> None:
    """``--resume PATH``, or ``--resume`` (``'auto'``): the work dir's newest
    checkpoint (``FaultTolerantRunner``, used by tools/train.py, takes the
    newest that loads; a plain mmengine Runner the one ``last_checkpoint``
    names)."""
    cfg.resume = True
    if resume == 'auto':
        cfg.load_from = None
        return
    if not osp.isfile(resume):
        raise FileNotFoundError(f'--resume checkpoint {resume!r} not found')
    cfg.load_from = resume
