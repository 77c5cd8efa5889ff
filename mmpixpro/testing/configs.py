"""The project's configs made small: one shrinking function for every use.

:func:`shrink_config` changes sizes only (depth and the widths that follow
it, heads, images, data, length); every other setting stays the config's.
Each group of sizes is changed only when asked, so the same function serves

* the tests and the demo, through the presets :func:`tiny_config`
  (pre-training configs) and :func:`small_benchmark_config` (fine-tuning
  configs of mmdet / mmseg / mmpretrain);
* the speed tool, which keeps images, heads and data as they are:
  ``shrink_config(cfg, depth, sync_bn=False)`` (another ResNet depth, BN for
  a single process).

Swin Transformer, ConvNeXt and plain ViT backbones have no depth:
``small_backbone`` gives them a quarter of their widths (the factor ResNet-50
-> ResNet-18 gives the widths) and a third of their blocks per stage (at least
one; a ViT: 2 layers), so a small pre-training config and a small benchmark
config of one backbone build the same network.
"""

from typing import Callable, Optional, Tuple, Union

from mmengine.config import Config

from mmpixpro.benchmarks.smoke import short_run, walk_dicts

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
STAGE_WIDTHS = [256, 512, 1024, 2048]  # ResNet-50's C2-C5 outputs
# mmdet's / mmseg's SwinTransformer defaults (Swin-T)
SWIN_DEFAULTS = dict(embed_dims=96, depths=(2, 2, 6, 2))


def small_backbone(backbone: dict) -> Optional[list]:
    """Make a Swin Transformer or ConvNeXt backbone config small, in place:
    a quarter of the widths, a third of the blocks per stage (at least one);
    heads and window stay. A plain ViT (mmpretrain's ``VisionTransformer``):
    a quarter of the width, heads and MLP width (64 channels a head, as
    ViT-B's), 2 layers; patch size and image size stay. Returns its stage
    widths before (a ViT: its one width), ``None`` (and changes nothing) for
    another backbone."""
    kind = str(backbone.get('type', '')).split('.')[-1]
    if kind == 'VisionTransformer':
        arch = backbone.get('arch', 'base')
        if isinstance(arch, str):
            from mmpretrain.models.backbones import VisionTransformer

            arch = VisionTransformer.arch_zoo[arch.lower()]
        backbone['arch'] = dict(
            embed_dims=arch['embed_dims'] // 4,
            num_layers=2,
            num_heads=max(1, arch['num_heads'] // 4),
            feedforward_channels=arch['feedforward_channels'] // 4,
        )
        return [arch['embed_dims']]
    if kind == 'SwinTransformer':
        embed = backbone.get('embed_dims', SWIN_DEFAULTS['embed_dims'])
        depths = backbone.get('depths', SWIN_DEFAULTS['depths'])
        backbone['embed_dims'] = embed // 4
        backbone['depths'] = [max(1, d // 3) for d in depths]
        return [embed * 2**i for i in range(len(depths))]
    if kind == 'ConvNeXt':
        arch = backbone.get('arch', 'tiny')
        if isinstance(arch, str):
            from mmpretrain.models.backbones import ConvNeXt

            arch = ConvNeXt.arch_settings[arch]
        backbone['arch'] = dict(
            depths=[max(1, d // 3) for d in arch['depths']],
            channels=[c // 4 for c in arch['channels']],
        )
        return list(arch['channels'])
    return None


def shrink_config(
    cfg: Config,
    depth: int = 18,
    *,
    sync_bn: bool = True,
    small_swin_convnext: bool = False,
    cpu: bool = False,
    small_heads: bool = False,
    crop_size: Optional[int] = None,
    scale: Union[int, Tuple[int, int], None] = None,
    data_root: Optional[str] = None,
    batch_size: Optional[int] = None,
    max_epochs: Optional[int] = None,
    iters: Optional[int] = None,
    score_thr: Optional[float] = None,
    precise_bn_samples: Optional[int] = None,
    val_ann: Optional[str] = None,
    dataset_edit: Optional[Callable[[dict, str], None]] = None,
) -> Config:
    """Make ``cfg`` small, in place; ``None`` / ``False`` leaves a part as is.

    Args:
        cfg: A pre-training or benchmark config (edited and returned).
        depth: ResNet depth of every ``depth`` equal to the backbone's. From
            ResNet-50 (or deeper) to 18 / 34, the widths fed by it follow
            (``in/out/feat_channels`` of 2048 and 1024, the C2-C5 list: 4x
            fewer).
        sync_bn: False: SyncBN layers become BN (one process, no Runner).
        small_swin_convnext: A Swin Transformer / ConvNeXt / plain ViT
            backbone made small (:func:`small_backbone`); the widths fed by it
            follow (its stage widths list, its last two widths as
            ``in/out/feat_channels``: 4x fewer).
        cpu: No activation checkpointing (``with_cp``) and no mixed precision
            (``AmpOptimWrapper`` becomes ``OptimWrapper``): what the GPU
            configs switch on, for a run on CPU.
        small_heads: Dense projector 64 wide; RoI heads narrower (convs 64,
            fc 256), 64 sampled RoIs, at most 200 / 100 proposals, 20
            detections per image.
        crop_size: Crops of the pipelines (the pre-training views, RandomCrop,
            RandomResizedCrop, CenterCrop), sliding-window and batch sizes;
            ResizeEdge to ``crop_size * 9 / 8``.
        scale: Scale of Resize / RandomResize / RandomChoiceResize, ``(w, h)``.
        data_root: Replaces every ``data_root``.
        batch_size: Of every loader, without workers.
        max_epochs: Training epochs (the config's loop and schedule).
        iters: Training iterations instead (iteration loop, no schedule,
            evaluation and checkpoint after the last one); wins over
            ``max_epochs``.
        score_thr: Detection score threshold (a few iterations give low
            scores, which should still be evaluated).
        precise_bn_samples: Images for precise BN statistics.
        val_ann: Annotation file of the evaluators.
        dataset_edit: ``fn(dataset_cfg, loader_name)`` for layout changes
            (e.g. :func:`coco_split_folders`).

    Returns:
        ``cfg``.
    """
    backbone = cfg.model.get('backbone', {})
    source = backbone.get('depth')
    widths = None  # the backbone's stage widths, when they become 4x fewer
    if source is not None and source >= 50 > depth:
        widths = STAGE_WIDTHS
    elif small_swin_convnext:
        widths = small_backbone(backbone)

    def edit(node: dict) -> None:
        if source is not None and node.get('depth') == source:
            node['depth'] = depth
        if widths is not None:
            for key in ('in_channels', 'out_channels', 'feat_channels'):
                if node.get(key) in widths[-2:]:
                    node[key] //= 4
                if node.get(key) == widths:
                    node[key] = [w // 4 for w in widths]
        if cpu and node.get('with_cp'):
            node['with_cp'] = False
        norm = node.get('norm_cfg')
        if not sync_bn and isinstance(norm, dict) and norm.get('type') == 'SyncBN':
            node['norm_cfg'] = dict(norm, type='BN')
        kind = str(node.get('type', '')).split('.')[-1]  # without the scope
        if small_heads:
            if kind == 'DenseProjector':
                node['hid_channels'] = 64
            if node.get('conv_out_channels') == 256:
                node['conv_out_channels'] = 64
            if node.get('fc_out_channels') == 1024:
                node['fc_out_channels'] = 256
        if crop_size is not None:
            if kind == 'RandomResizedCropWithCoord':
                node['scale'] = crop_size
            if kind == 'RandomCrop':
                node['crop_size'] = (crop_size, crop_size)
            if kind in ('RandomResizedCrop', 'CenterCrop'):
                node['crop_size' if 'crop_size' in node else 'scale'] = crop_size
            if kind == 'ResizeEdge':
                node['scale'] = crop_size * 9 // 8
        if scale is not None:
            if kind in ('Resize', 'RandomResize') and 'scale' in node:
                node['scale'] = scale
            if kind == 'RandomChoiceResize':
                node['scales'] = [scale]
        if 'score_thr' in node:
            if score_thr is not None:
                node['score_thr'] = score_thr
            if small_heads and 'max_per_img' in node:  # masks: 4 convs each
                node['max_per_img'] = 20
        if kind == 'PreciseBNBeforeEvalHook' and precise_bn_samples is not None:
            node['num_samples'] = precise_bn_samples
        # A 4-conv box head on 512 sampled / 1000 proposed RoIs costs ~100
        # GFLOPs a step.
        if small_heads and kind == 'RandomSampler' and node.get('num') == 512:
            node['num'] = 64
        if small_heads and {'nms_pre', 'max_per_img', 'nms'} <= node.keys():
            node.update(nms_pre=min(node['nms_pre'], 200), max_per_img=100)
        if data_root is not None and 'data_root' in node:
            node['data_root'] = data_root

    walk_dicts(cfg._cfg_dict, edit)
    if cpu and cfg.get('optim_wrapper', {}).get('type') == 'AmpOptimWrapper':
        cfg.optim_wrapper.type = 'OptimWrapper'
        for key in ('loss_scale', 'dtype'):
            cfg.optim_wrapper.pop(key, None)
    if crop_size is not None:
        if cfg.model.get('test_cfg', {}).get('mode') == 'slide':
            cfg.model.test_cfg.update(
                crop_size=(crop_size, crop_size),
                stride=(crop_size * 3 // 4, crop_size * 3 // 4),
            )
        if 'size' in cfg.model.get('data_preprocessor', {}):
            cfg.model.data_preprocessor.size = (crop_size, crop_size)
    for loader in LOADERS:
        if batch_size is not None and cfg.get(loader):
            cfg[loader].update(
                batch_size=batch_size,
                num_workers=0,
                persistent_workers=False,
                pin_memory=False,
            )
        if dataset_edit is not None and cfg.get(loader):
            dataset_edit(cfg[loader].dataset, loader)
    for evaluator in ('val_evaluator', 'test_evaluator'):
        if val_ann is not None and 'ann_file' in cfg.get(evaluator, {}):
            cfg[evaluator].ann_file = val_ann
    if iters is not None:
        short_run(cfg, iters)
    elif max_epochs is not None:
        cfg.train_cfg.max_epochs = max_epochs
    if iters is not None or max_epochs is not None:  # a run on this machine
        cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
        cfg.env_cfg.dist_cfg = dict(backend='gloo')
    return cfg


def unformatted(cfg: Config) -> Config:
    """``cfg`` as a config whose text is not run through yapf.

    A Runner writes its config's text five or six times as it starts (log,
    dump, visualizer, message hub, checkpoint meta), and yapf takes longer
    than a one-iteration CPU run's model; the text stays valid Python, only
    not re-wrapped. (mmengine 0.10's ``Config.fromfile`` does not pass its
    ``format_python_code`` on for plain configs, hence the rebuild.)"""
    return Config(
        cfg.to_dict(),
        cfg_text=cfg.text,
        filename=cfg.filename,
        env_variables=cfg.env_variables,
        format_python_code=False,
    )


def tiny_config(
    path: str,
    work_dir: str,
    crop_size: int = 64,
    batch_size: int = 4,
    max_epochs: int = 1,
    data_root: Optional[str] = None,
    iters: Optional[int] = None,
) -> Config:
    """A pre-training config for CPU tests: ResNet-18 (a small Swin /
    ConvNeXt), ``crop_size`` views, a 64-wide projector, ``max_epochs`` (or
    ``iters``) on ``data_root``, no mixed precision nor activation
    checkpointing. Its text is written unformatted (:func:`unformatted`)."""
    cfg = shrink_config(
        unformatted(Config.fromfile(path)),
        small_swin_convnext=True,
        cpu=True,
        small_heads=True,
        crop_size=crop_size,
        data_root=data_root,
        batch_size=batch_size,
        max_epochs=max_epochs,
        iters=iters,
    )
    cfg.work_dir = str(work_dir)
    return cfg


def small_benchmark_config(
    cfg: Config,
    data_root: str,
    scale: Union[int, Tuple[int, int]],
    iters: int = 2,
    batch_size: int = 2,
    val_ann: Optional[str] = None,
    dataset_edit: Optional[Callable[[dict, str], None]] = None,
    score_thr: float = 0.0,
    precise_bn_samples: int = 4,
) -> Config:
    """A benchmark config for CPU tests and the demo: ResNet-18 (a small
    Swin / ConvNeXt), ``scale``-sized images (64 px crops), small heads,
    ``iters`` iterations then one evaluation, on the data under
    ``data_root``, no mixed precision nor activation checkpointing (see
    :func:`shrink_config` for the arguments); a new config, its text written
    unformatted (:func:`unformatted`)."""
    return shrink_config(
        unformatted(cfg),
        small_swin_convnext=True,
        cpu=True,
        small_heads=True,
        crop_size=64,
        scale=scale,
        data_root=data_root,
        batch_size=batch_size,
        iters=iters,
        score_thr=score_thr,
        precise_bn_samples=precise_bn_samples,
        val_ann=val_ann,
        dataset_edit=dataset_edit,
    )


def coco_split_folders(dataset: dict, loader: str) -> None:
    """``dataset_edit`` for the COCO layout of :func:`~.toy_data.make_coco`."""
    split = 'train2017' if loader == 'train_dataloader' else 'val2017'
    dataset.update(
        ann_file=f'annotations/instances_{split}.json',
        data_prefix=dict(img=f'{split}/'),
    )
