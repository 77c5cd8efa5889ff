"""Command-line options shared by the training tools (mmpretrain style)."""

import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction


def add_run_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--work-dir``, ``--resume``, ``--amp``, ``--auto-scale-lr``,
    ``--cfg-options``, ``--launcher``, ``--local-rank``."""
    parser.add_argument('--work-dir', help='where logs and checkpoints are written')
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
    return parser


def merge_run_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the options of :func:`add_run_args` to ``cfg``."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    cfg.work_dir = work_dir_of(cfg, args)
    if args.amp:
        use_amp(cfg)
    if args.resume is not None:
        use_resume(cfg, args.resume)
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise KeyError('--auto-scale-lr needs `auto_scale_lr` in the config')
        cfg.auto_scale_lr.enable = True
    if args.launcher != 'none' and not torch.cuda.is_available():
        from mmpixpro.engine import setup_cpu_distributed

        # NCCL needs GPUs; gloo runs the same job on CPU processes.
        cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
        setup_cpu_distributed(cfg)
    return cfg


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
