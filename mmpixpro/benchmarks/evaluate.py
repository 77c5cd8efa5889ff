"""Evaluate a fine-tuned benchmark model in mmdet / mmseg / mmpretrain's own
Runner (the config's ``default_scope`` decides which).

The checkpoint is one written by fine-tuning the same config (the whole
detector / segmentor / classifier). It is loaded strictly: a pre-training
checkpoint (in any layout of :mod:`.layouts`, named) or one of another
model stops the run, naming the tensors that do not fit, instead of
evaluating a half-initialised model. It is read as data
(:func:`.transfer.read_checkpoint`: ``weights_only=True``, a URL downloaded
first, the tensor digest checked): a file carrying pickled code is refused
with one line.
"""

import json
import os.path as osp
import re
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner, load_state_dict

from mmpixpro.engine.checkpoint_checks import state_dict_mismatches
from mmpixpro.engine.checkpoint_download import is_remote
from mmpixpro.engine.config_check import check_config
from mmpixpro.utils.atomic_file import atomic_open, check_output
from mmpixpro.utils.config_resolver import resolve_config
from mmpixpro.utils.data_roots import check_data_roots

from .transfer import find_hook_cfg, model_state, pretraining_error, read_checkpoint


def build_test_config(
    config: str,
    checkpoint: str,
    work_dir: Optional[str] = None,
    cfg_options: Optional[dict] = None,
    launcher: str = 'none',
) -> Config:
    """The config for evaluation: no pre-trained weights to load (the
    fine-tuned checkpoint holds every tensor), the work dir (by default
    ``work_dirs/<config name>/test``), the launcher (gloo without a GPU).

    Raises:
        FileNotFoundError: No config (a path, ``mmpixpro::<path>`` or a
            config name) or no checkpoint.
    """
    config = resolve_config(config)
    if not is_remote(checkpoint) and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint!r} not found')
    cfg = Config.fromfile(config)
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    cfg.custom_hooks = [
        hook
        for hook in cfg.get('custom_hooks', None) or []
        if hook.get('type', '').split('.')[-1] != 'PretrainedTransferHook'
    ]
    cfg.load_from = None  # loaded strictly by evaluate_checkpoint
    cfg.resume = False
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        name = osp.splitext(osp.basename(config))[0]
        cfg.work_dir = osp.join('./work_dirs', name, 'test')
    if launcher != 'none' and not torch.cuda.is_available():
        from mmpixpro.engine import setup_cpu_distributed

        # NCCL needs GPUs; gloo runs the same job on CPU processes.
        cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
        setup_cpu_distributed(cfg)
    check_config(cfg)
    check_data_roots(cfg, ('test_dataloader',))
    return cfg


def evaluate_checkpoint(
    config: str,
    checkpoint: str,
    work_dir: Optional[str] = None,
    out: Optional[str] = None,
    cfg_options: Optional[dict] = None,
    launcher: str = 'none',
) -> dict:
    """Load ``checkpoint`` strictly into the model of ``config`` and run its
    test loop; returns the metrics (also written to ``out`` as JSON by the
    main process, atomically; an existing file is replaced).

    Raises:
        FileNotFoundError: No config or no checkpoint.
        TransferError: The checkpoint is a pre-training one (its layout
            named), or cannot be read safely.
        ValueError: The checkpoint cannot be read as data, or does not hold
            every tensor of the model (one line saying which differ).
        LinkRefusedError, OutputExistsError, IsADirectoryError: ``out`` is a
            symbolic link, an input or a folder (before any work).
    """
    if out:
        check_output(out, [config, checkpoint], overwrite=True)
    hook = find_hook_cfg(Config.fromfile(config)) if osp.isfile(config) else None
    cfg = build_test_config(config, checkpoint, work_dir, cfg_options, launcher)
    runner = Runner.from_cfg(cfg)
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    loaded = read_checkpoint(checkpoint)
    if hook is not None:  # a benchmark config: is it a model of it?
        error = pretraining_error(
            checkpoint,
            loaded,
            model.state_dict(),
            hook.get('rules', [dict(model='backbone.')]),
            hook.get('fresh', ()),
        )
        if error is not None:
            raise error
    state = model_state(loaded)
    # strict: every tensor of the model must come from the checkpoint
    try:
        if state is None:
            raise ValueError('it holds no state dict of tensors')
        state = {re.sub(r'^module\.', '', k): v for k, v in state.items()}
        load_state_dict(model, state, strict=True)
    except Exception as e:
        reason = state_dict_mismatches(model, state) if state is not None else ''
        raise ValueError(
            f'{checkpoint!r} is not a fine-tuned model of {osp.basename(config)}: '
            f'{reason or str(e).strip().splitlines()[0]}'
        ) from e
    metrics = runner.test()
    if out and is_main_process():
        with atomic_open(out, 'w', overwrite=True) as f:
            json.dump(metrics, f, indent=1)
    return metrics
