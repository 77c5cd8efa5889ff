"""A benchmark config set up to fine-tune a pre-trained checkpoint."""

import os.path as osp

from mmengine.config import Config

from mmpixpro.engine.checkpoint_download import is_remote
from mmpixpro.utils.config_resolver import resolve_config

from .backbone_arch import depth_mismatch
from .transfer import TransferError, find_hook_cfg, load_pretrained


def finetune_config(config: str, checkpoint: str) -> Config:
    """Load ``config`` and point its ``PretrainedTransferHook`` at
    ``checkpoint``, which the hook loads after the model's own
    initialisation (and not again when a run resumes).

    Fails here, before any Runner exists, on what can be told from the files;
    the hook checks that the checkpoint fits the model once the model exists.

    Raises:
        FileNotFoundError: No config (a path, ``mmpixpro::<path>`` or a
            config name) or no checkpoint.
        KeyError: The config has no ``PretrainedTransferHook``.
        TransferError: The checkpoint cannot be loaded safely, or is in no
            known layout (:class:`~.layouts.LayoutError`), or in two.
    """
    config = resolve_config(config)
    cfg = Config.fromfile(config)
    hook = find_hook_cfg(cfg)
    if hook is None:
        raise KeyError(f'{config} has no PretrainedTransferHook in custom_hooks')
    load_pretrained(checkpoint)
    hook.checkpoint = checkpoint if is_remote(checkpoint) else osp.abspath(checkpoint)
    return cfg


def check_backbone_depth(cfg: Config) -> None:
    """Stop when the transfer hook's checkpoint holds a ResNet of another
    depth than ``cfg``'s backbone (with the ``--cfg-options`` already
    merged), naming both depths and the overrides that fit it; the hook
    checks the same against the built model.

    Raises:
        TransferError: The depths differ.
    """
    hook = find_hook_cfg(cfg)
    if hook is None or not hook.get('checkpoint'):
        return
    state = load_pretrained(hook.checkpoint).state
    depth = cfg.model.get('backbone', {}).get('depth')
    problem = depth_mismatch(hook.checkpoint, state, depth, cfg.model)
    if problem is not None:
        raise TransferError(problem)
