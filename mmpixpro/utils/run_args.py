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
        help='resume from this checkpoint, or (no value) from the latest '
        'checkpoint in the work dir',
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

    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join(
            './work_dirs', osp.splitext(osp.basename(args.config))[0]
        )

    if args.amp:
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

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(f'--resume checkpoint {args.resume!r} not found')
        cfg.resume = True
        cfg.load_from = args.resume

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
