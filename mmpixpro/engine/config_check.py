"""Fail at start on config keys the Runner would silently ignore.

What it guarantees: a misspelt top-level key (``train_dataloder``) or a
Runner key with a value of the wrong type stops the run before anything is
built, in one line naming the key (and the key it resembles); nested keys
are left to the classes they are passed to, which name an unexpected one.
"""

import difflib
from typing import Dict, Tuple

from mmengine.config import Config

# Top-level keys that mmengine's Runner (and OpenMMLab tools) read.
RUNNER_KEYS: Dict[str, Tuple[type, ...]] = {
    'model': (dict,),
    'work_dir': (str,),
    'train_dataloader': (dict,),
    'val_dataloader': (dict, type(None)),
    'test_dataloader': (dict, type(None)),
    'train_cfg': (dict,),
    'val_cfg': (dict, type(None)),
    'test_cfg': (dict, type(None)),
    'auto_scale_lr': (dict, type(None)),
    'optim_wrapper': (dict,),
    'param_scheduler': (dict, list, tuple, type(None)),
    'val_evaluator': (dict, list, type(None)),
    'test_evaluator': (dict, list, type(None)),
    'default_hooks': (dict,),
    'custom_hooks': (list, tuple, type(None)),
    'data_preprocessor': (dict, type(None)),
    'load_from': (str, type(None)),
    'resume': (bool,),
    'launcher': (str,),
    'env_cfg': (dict,),
    'log_processor': (dict,),
    'log_level': (str, int),
    'visualizer': (dict, type(None)),
    'vis_backends': (list, tuple, type(None)),
    'default_scope': (str,),
    'randomness': (dict,),
    'experiment_name': (str, type(None)),
    'find_unused_parameters': (bool,),
    'model_wrapper_cfg': (dict, type(None)),
    'custom_imports': (dict,),
    'compile': (bool, dict),
    'strategy': (dict,),
    'runner_type': (str,),
    'backend_args': (dict, type(None)),
}


def check_config(cfg: Config) -> None:
    """Raise on a misspelt top-level key or a value of the wrong type.

    A top-level key that the Runner does not read is accepted as a config
    variable (``crop_size``, ``norm_cfg``, ...) unless it is a near-miss of a
    Runner key (``train_dataloder``), which would otherwise be ignored
    without a word. Nested keys are checked by the classes they are passed
    to (an unexpected argument raises naming it).

    Raises:
        KeyError: a near-miss key, naming it and the key it resembles.
        TypeError: a Runner key whose value has the wrong type.
    """
    for key, value in cfg.items():
        if key in RUNNER_KEYS:
            if not isinstance(value, RUNNER_KEYS[key]):
                names = ' or '.join(t.__name__ for t in RUNNER_KEYS[key])
                raise TypeError(
                    f'config key {key!r} must be {names}, got {type(value).__name__} '
                    f'({value!r})'
                )
            continue
        close = difflib.get_close_matches(key, RUNNER_KEYS, n=1, cutoff=0.85)
        if close:
            raise KeyError(
                f'config key {key!r} is not read by the Runner '
                f'(did you mean {close[0]!r}?)'
            )
    for name, hook in (cfg.get('default_hooks') or {}).items():
        if hook is not None and not isinstance(hook, dict):
            raise TypeError(
                f'default_hooks.{name} must be a dict or None, got {hook!r}'
            )
    loader = cfg.get('train_dataloader') or {}
    for key in ('batch_size', 'num_workers'):
        value = loader.get(key, 0)
        if not (isinstance(value, int) and value >= 0):
            raise TypeError(
                f'train_dataloader.{key} must be a non-negative int, got {value!r}'
            )
