"""Benchmark configs made small enough for a CPU: tests and the demo.

Only sizes change (ResNet-18 for 50, small images, fewer RoIs and narrower
RoI heads, a few iterations, a few images for precise BN, the given data);
the protocol settings stay those of the config.
"""

from typing import Any, Callable, Optional, Tuple

from mmengine.config import Config


def walk_dicts(node: Any, fn: Callable[[dict], None]) -> None:
    """Call ``fn`` on every dict inside ``node`` (nested dicts and lists)."""
    if isinstance(node, dict):
        fn(node)
        for value in node.values():
            walk_dicts(value, fn)
    elif isinstance(node, (list, tuple)):
        for value in node:
            walk_dicts(value, fn)


def small_benchmark_config(
    cfg: Config,
    data_root: str,
    scale: Tuple[int, int],
    iters: int = 2,
    batch_size: int = 2,
    val_ann: Optional[str] = None,
    dataset_edit: Optional[Callable[[dict, str], None]] = None,
    score_thr: float = 0.0,
    precise_bn_samples: int = 4,
) -> Config:
    """ResNet-18, ``scale``-sized images, fewer RoIs, ``iters`` iterations
    then one evaluation, on the data under ``data_root``.

    Args:
        cfg (Config): A benchmark config (edited in place and returned).
        data_root (str): Replaces every ``data_root`` of the config.
        scale (tuple): Resize scale ``(w, h)`` (crops: 64 px).
        iters (int): Training iterations; evaluation after the last one.
        batch_size (int): Per loader.
        val_ann (str, optional): Annotation file of the evaluators.
        dataset_edit (callable, optional): ``fn(dataset_cfg, loader_name)``
            for layout changes (e.g. COCO split folders).
        score_thr (float): Detection score threshold (low: a few iterations
            give low scores, which should still be evaluated).
        precise_bn_samples (int): Images for precise BN statistics.
    """

    def edit(node: dict) -> None:
        if node.get('depth') == 50:
            node['depth'] = 18
        for key in ('in_channels', 'out_channels', 'feat_channels'):
            value = node.get(key)
            if value in (2048, 1024):  # ResNet-50 -> 18: 4x fewer channels
                node[key] = value // 4
            if value == [256, 512, 1024, 2048]:
                node[key] = [64, 128, 256, 512]
        # RoI heads: narrower convs and fc (their inputs keep their width)
        if node.get('conv_out_channels') == 256:
            node['conv_out_channels'] = 64
        if node.get('fc_out_channels') == 1024:
            node['fc_out_channels'] = 256
        kind = node.get('type')
        if kind in ('Resize', 'RandomResize') and 'scale' in node:
            node['scale'] = scale
        if kind == 'RandomChoiceResize':
            node['scales'] = [scale]
        if kind == 'RandomCrop':
            node['crop_size'] = (64, 64)
        if kind in ('RandomResizedCrop', 'CenterCrop'):
            node['crop_size' if 'crop_size' in node else 'scale'] = 64
        if kind == 'ResizeEdge':
            node['scale'] = 72
        if 'score_thr' in node:
            node['score_thr'] = score_thr
            if 'max_per_img' in node:  # detections per image (masks: 4 convs)
                node['max_per_img'] = 20
        if kind == 'PreciseBNBeforeEvalHook':  # one pass over a few batches
            node['num_samples'] = precise_bn_samples
        # Fewer RoIs per image: a 4-conv box head on 512 sampled / 1000
        # proposed RoIs costs ~100 GFLOPs a step.
        if kind == 'RandomSampler' and node.get('num') == 512:
            node['num'] = 64
        if 'nms_pre' in node and 'max_per_img' in node and 'nms' in node:
            node.update(nms_pre=min(node['nms_pre'], 200), max_per_img=100)
        if 'data_root' in node:
            node['data_root'] = data_root

    walk_dicts(cfg._cfg_dict, edit)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(
            batch_size=batch_size, num_workers=0, persistent_workers=False
        )
        if dataset_edit is not None:
            dataset_edit(cfg[loader].dataset, loader)
    for evaluator in ('val_evaluator', 'test_evaluator'):
        if val_ann is not None and 'ann_file' in cfg[evaluator]:
            cfg[evaluator].ann_file = val_ann
    if cfg.model.get('test_cfg', {}).get('mode') == 'slide':
        cfg.model.test_cfg.update(crop_size=(64, 64), stride=(48, 48))
    if 'size' in cfg.model.data_preprocessor:
        cfg.model.data_preprocessor.size = (64, 64)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=iters, by_epoch=False
    )
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.log_processor = dict(by_epoch=False)
    return cfg


def coco_split_folders(dataset: dict, loader: str) -> None:
    """``dataset_edit`` for the COCO layout of ``toy_data.make_coco``."""
    split = 'train2017' if loader == 'train_dataloader' else 'val2017'
    dataset.update(
        ann_file=f'annotations/instances_{split}.json',
        data_prefix=dict(img=f'{split}/'),
    )
