"""A PixPro model from a config and a checkpoint, for looking at features."""

import logging
import os.path as osp
from typing import List, Optional, Sequence

import torch
from torch import nn


def init_model(
    config: str,
    checkpoint: Optional[str] = None,
    levels: Optional[Sequence[str]] = None,
    seed: int = 0,
    device: str = 'cpu',
    cfg_options: Optional[dict] = None,
) -> nn.Module:
    """Build the PixPro model of ``config``, in eval mode on ``device``.

    The model is built and initialised (``init_weights()``) after seeding
    torch with ``seed``, so the random initialisation is reproducible; then,
    with ``checkpoint``, its ``backbone.*`` and ``neck.*`` tensors are loaded.

    Args:
        config: A pre-training config: a path, ``mmpixpro::<path>`` or a
            config name.
        checkpoint: Path (or URL) of a checkpoint of that config, read as
            data (``weights_only=True``, its tensor digest checked; the
            config text it carries is never parsed); None keeps the random
            initialisation.
        levels: The levels the model selects (its ``out_levels``, checked by
            the model), each once in the given order; None: the config's.
        seed: Seed of the random initialisation.
        device: Torch device.
        cfg_options: Overrides merged into the config (``merge_from_dict``).

    Returns:
        The model (``mmpixpro.models.PixPro``), in eval mode.

    Raises:
        FileNotFoundError: The config or the checkpoint does not exist.
        ValueError: A level the model does not output; a checkpoint that does
            not fit the config.
    """
    from mmpixpro.engine.checkpoint_download import is_remote
    from mmpixpro.utils.config_resolver import resolve_config

    config = resolve_config(config)
    if checkpoint is not None and not (is_remote(checkpoint) or osp.isfile(checkpoint)):
        raise FileNotFoundError(f'checkpoint {checkpoint!r} not found')
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmengine.registry import DefaultScope

    from mmpixpro.registry import MODELS
    from mmpixpro.utils import register_all_modules

    # The caller's current scope stays current; the build below runs in ours.
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if levels:
        cfg.model.out_levels = list(dict.fromkeys(levels))
    torch.manual_seed(seed)
    # In mmpixpro's scope even when another (a downstream Runner's) is current.
    with DefaultScope.overwrite_default_scope('mmpixpro'):
        model = MODELS.build(cfg.model)
        # init_weights() logs one record per tensor (and a registry-scope
        # warning) to mmengine's logger: keep the console for the output.
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            model.init_weights()
        finally:
            logger.setLevel(level)
    if checkpoint is not None:
        load_dense_weights(model, checkpoint)
    return model.to(device).eval()


def selected_levels(model: nn.Module) -> List[str]:
    """The levels ``model`` selects (its ``out_levels``), by name."""
    return [model.level_names[i] for i in model.out_indices]


def dense_modules(model: nn.Module) -> List[str]:
    """Names of the modules on the dense path: ``backbone`` [, ``neck``]."""
    return [name for name in model.online_net() if name in ('backbone', 'neck')]


def load_dense_weights(model: nn.Module, checkpoint: str) -> int:
    """Load the backbone (and neck) tensors of ``checkpoint`` into ``model``.

    Args:
        model: A model built from the checkpoint's config.
        checkpoint: Path or URL of an mmengine checkpoint (or a flat state
            dict), read by mmpixpro's reader.

    Returns:
        The number of tensors loaded.

    Raises:
        ValueError: A backbone / neck tensor of the model is missing from the
            checkpoint or has another shape (the checkpoint is not of this
            config).
    """
    from mmpixpro.benchmarks.transfer import load_state_dict_file

    try:
        state = load_state_dict_file(checkpoint)
    except FileNotFoundError:
        raise
    except Exception as e:  # not a checkpoint, or not a safe one
        raise ValueError(str(e)) from e
    own = model.state_dict()
    modules = dense_modules(model)
    wanted = [k for k in own if k.split('.')[0] in modules]
    missing = [k for k in wanted if k not in state]
    if missing:
        raise ValueError(
            f'checkpoint {checkpoint!r} lacks {len(missing)} of the '
            f'{len(wanted)} {"/".join(modules)} tensors of the '
            f'config (e.g. {missing[0]!r}); is it a checkpoint of this config?'
        )
    wrong = [k for k in wanted if state[k].shape != own[k].shape]
    if wrong:
        k = wrong[0]
        raise ValueError(
            f'checkpoint {checkpoint!r} does not fit the config: {k} has shape '
            f'{tuple(state[k].shape)}, the model {tuple(own[k].shape)}'
        )
    model.load_state_dict({k: state[k] for k in wanted}, strict=False)
    return len(wanted)
