"""A benchmark config made into a smoke run: everything a full run does, in
a few minutes.

:func:`smoke_config` keeps the model, the data, the pipelines and every
hook, and makes each stage short:

- training: ``iters`` iterations (an iteration loop, a constant lr: the
  warm-up and the steps of a 90k-iteration schedule say nothing in 4), one
  checkpoint and one evaluation after the last;
- precise BN: ``images`` images instead of the protocol's 3,200;
- evaluation: the first ``images`` images of the validation (and test) set,
  scored on those images only: the COCO metric takes its ground truth from
  them (no ``ann_file``: the annotations travel with each image, ``instances``
  in its meta keys) rather than from all 5,000 images of val2017, and the
  detection score threshold is 0 (an almost untrained head scores below
  mmdet's 0.05, which leaves nothing to evaluate and mmdet logs "The
  testing results of the whole dataset is empty" as an ERROR);
- the protocol-batch warning is dropped (a smoke run is no protocol run).

``tools/benchmarks/train.py CONFIG CKPT --smoke [ITERS]`` runs it;
``tools/misc/print_config.py CONFIG --smoke > smoke.py`` writes it for the
downstream project's own ``train.py`` (docs/en/user_guides/benchmarks.md).
"""

from typing import Any, Callable, Optional

from mmengine.config import Config

LOADERS = ('val_dataloader', 'test_dataloader')
EVALUATORS = ('val_evaluator', 'test_evaluator')
# mmdet 3.x PackDetInputs' default meta_keys
PACK_DET_META_KEYS = (
    'img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
    'flip_direction',
)  # fmt: skip


def add_smoke_arg(parser):
    """``--smoke [ITERS]`` (default 4) of the tools that take a benchmark
    config."""
    parser.add_argument(
        '--smoke',
        nargs='?',
        type=int,
        const=4,
        metavar='ITERS',
        help='a smoke run: ITERS (default 4) iterations, precise BN and '
        'evaluation on two batches of images',
    )
    return parser


def walk_dicts(node: Any, fn: Callable[[dict], None]) -> None:
    """Call ``fn`` on every dict inside ``node`` (nested dicts and lists)."""
    if isinstance(node, dict):
        fn(node)
        for value in node.values():
            walk_dicts(value, fn)
    elif isinstance(node, (list, tuple)):
        for value in node:
            walk_dicts(value, fn)


def short_run(cfg: Config, iters: int) -> Config:
    """``iters`` training iterations (iteration loop, no lr schedule), then
    one checkpoint and, with a validation set, one evaluation; every
    iteration logged. In place."""
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
    if cfg.get('val_dataloader'):
        cfg.train_cfg.val_interval = iters
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=iters, by_epoch=False
    )
    cfg.log_processor = dict(by_epoch=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    return cfg


def _evaluators(cfg: Config, key: str) -> list:
    value = cfg.get(key)
    return [] if value is None else value if isinstance(value, list) else [value]


def smoke_config(cfg: Config, iters: int = 4, images: Optional[int] = None) -> Config:
    """Make benchmark config ``cfg`` a smoke run (see the module docstring),
    in place.

    Args:
        cfg: A fine-tuning config (mmdet / mmseg / mmpretrain).
        iters: Training iterations.
        images: Images of precise BN and of the evaluation; default two
            training batches.

    Returns:
        ``cfg``.
    """
    if iters < 1:
        raise ValueError(f'--smoke takes a number of iterations >= 1, got {iters}')
    images = images or 2 * cfg.train_dataloader.batch_size
    short_run(cfg, iters)

    def no_threshold(node: dict) -> None:
        if 'score_thr' in node:
            node['score_thr'] = 0.0

    walk_dicts(cfg.model, no_threshold)
    hooks = [
        h
        for h in cfg.get('custom_hooks') or []
        if not str(h.get('type', '')).endswith('ProtocolBatchHook')
    ]
    for hook in hooks:
        if str(hook.get('type', '')).endswith('PreciseBNBeforeEvalHook'):
            hook['num_samples'] = images
    cfg.custom_hooks = hooks
    coco = any(
        e.get('type') == 'CocoMetric'
        for key in EVALUATORS
        for e in _evaluators(cfg, key)
    )
    for key in EVALUATORS:
        for evaluator in _evaluators(cfg, key):
            if evaluator.get('type') == 'CocoMetric':
                evaluator['ann_file'] = None  # ground truth of the images run
    for key in LOADERS:
        if not cfg.get(key):
            continue
        dataset = cfg[key].dataset
        dataset.indices = images
        if coco:
            for step in dataset.get('pipeline', []):
                if step.get('type') == 'PackDetInputs':
                    keys = list(step.get('meta_keys', PACK_DET_META_KEYS))
                    if 'instances' not in keys:
                        step['meta_keys'] = tuple(keys + ['instances'])
    return cfg
