"""Multi-process training on CPU (gloo), for tests and CPU-only machines.

mmengine's ``init_dist`` calls ``torch.cuda.set_device`` and its Runner
passes ``device_ids=[LOCAL_RANK]`` to DDP; both fail without a GPU. The
process group is therefore started here, from torchrun's environment
(``launcher='pytorch'``) or slurm's (``launcher='slurm'``: ``SLURM_PROCID``,
``SLURM_NTASKS``, ``SLURM_LOCALID``, and ``MASTER_ADDR`` or the first node of
``SLURM_NODELIST`` as mmengine takes them).
"""

import logging
import os
import subprocess

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm
from torch import nn

from mmpixpro.registry import MODEL_WRAPPERS


# The Runner looks wrappers up in mmengine's root registry, whatever its
# default scope: configs name it type='mmpixpro.CPUDistributedDataParallel'.
@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` for modules on the CPU.

    torch's DDP rejects ``device_ids`` for a CPU module, and
    ``nn.SyncBatchNorm`` only runs on GPUs ("SyncBatchNorm layers only work
    with GPU modules"): on the CPU, ``device_ids`` is dropped and every
    SyncBN layer becomes a plain BN layer (per-process batch statistics),
    with a logged warning.
    """

    def __init__(self, module, device_ids=None, **kwargs) -> None:
        if next(module.parameters()).device.type == 'cpu':
            device_ids = None
            module = revert_sync_batchnorm_with_warning(module)
        super().__init__(module=module, device_ids=device_ids, **kwargs)


def revert_sync_batchnorm_with_warning(module: nn.Module) -> nn.Module:
    """mmengine's ``revert_sync_batchnorm``, saying how many layers changed."""
    count = sum(isinstance(m, nn.SyncBatchNorm) for m in module.modules())
    if not count:
        return module
    print_log(
        f'{count} SyncBatchNorm layers run on CPU processes as BatchNorm '
        '(batch statistics per process): SyncBN needs GPUs',
        logger='current',
        level=logging.WARNING,
    )
    return revert_sync_batchnorm(module)


def setup_cpu_distributed(cfg: Config) -> None:
    """Start gloo and use the CPU DDP wrapper when no GPU is visible.

    Call before building the Runner, in a process started by torchrun
    (``launcher='pytorch'``) or srun (``launcher='slurm'``). The Runner then
    finds the process group initialised and does not call ``init_dist``
    itself.
    """
    launcher = cfg.get('launcher')
    if torch.cuda.is_available() or launcher not in ('pytorch', 'slurm'):
        return
    if not dist.is_initialized():
        if launcher == 'slurm':
            slurm_environment()
        dist.init_process_group(backend='gloo')
    wrapper = dict(
        type='mmpixpro.CPUDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False),
    )
    wrapper.update(cfg.get('model_wrapper_cfg') or {})
    cfg.model_wrapper_cfg = wrapper


def slurm_environment() -> None:
    """torch's ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
    ``MASTER_PORT`` from slurm's variables, as mmengine's slurm start sets
    them (``MASTER_ADDR`` / ``MASTER_PORT`` kept when set; else the first
    node of the allocation and 29500)."""
    env = os.environ
    env['RANK'] = env['SLURM_PROCID']
    env['WORLD_SIZE'] = env['SLURM_NTASKS']
    env['LOCAL_RANK'] = env.get('SLURM_LOCALID', '0')
    env.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in env:
        nodes = env['SLURM_NODELIST']
        first = subprocess.run(
            ['scontrol', 'show', 'hostnames', nodes],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        env['MASTER_ADDR'] = first[0]
