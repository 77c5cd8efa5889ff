"""The demo's steps: pre-train on a folder of photos, draw the features,
fine-tune FCOS from the checkpoint, and report what was written.

1. :func:`pretrain` trains a pre-training config through mmengine's Runner;
2. :func:`~mmpixpro.visualization.draw_dense_features` draws its dense
   features beside a random initialisation;
3. :func:`fine_tune_fcos` fine-tunes FCOS (a benchmark config made small:
   ResNet-18, small images, a few iterations) on a generated COCO-format set
   in mmdet's Runner, initialised from the checkpoint by the transfer hook;
4. :func:`report` says what happened and lists every file.
"""

import json
import os.path as osp
import time
from typing import Callable, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.runner import Runner


def read_scalars(path: str) -> List[dict]:
    """The records of an mmengine ``scalars.json`` (JSON lines)."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def pretrain(cfg: Config) -> dict:
    """Train ``cfg`` through mmengine's Runner; returns what :func:`report`
    needs: the checkpoint, the log files, the loss records, the time."""
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    scalars = osp.join(runner.log_dir, 'vis_data', 'scalars.json')
    return dict(
        checkpoint=osp.join(cfg.work_dir, f'epoch_{runner.epoch}.pth'),
        log=osp.join(runner.log_dir, f'{runner.timestamp}.log'),
        scalars=scalars,
        records=[r for r in read_scalars(scalars) if 'loss' in r],
        minutes=(time.time() - start) / 60,
        iters=runner.iter,
        epochs=runner.epoch,
        images=len(runner.train_dataloader.dataset),
        data_root=cfg.train_dataloader.dataset.data_root,
        depth=cfg.model.backbone.depth,
    )


def fine_tune_fcos(fcos_config: str, checkpoint: str, work_dir: str) -> dict:
    """FCOS (``fcos_config`` made small) on a generated COCO set under
    ``work_dir``, initialised from ``checkpoint`` by the transfer hook."""
    from mmpixpro.benchmarks.transfer import find_hook_cfg
    from mmpixpro.testing import coco_split_folders, small_benchmark_config, toy_data

    coco = osp.join(work_dir, 'coco')
    anns = toy_data.make_coco(
        coco, splits={'train2017': 24, 'val2017': 8}, size=(120, 160)
    )
    cfg = small_benchmark_config(
        Config.fromfile(fcos_config),
        coco,
        scale=(160, 120),
        iters=12,
        batch_size=4,
        val_ann=anns['val2017'],
        dataset_edit=coco_split_folders,
        score_thr=0.05,
    )
    cfg.optim_wrapper.optimizer.lr = 0.005
    cfg.work_dir = osp.join(work_dir, 'fcos')
    cfg.visualizer.name = 'demo_fcos_visualizer'
    find_hook_cfg(cfg).checkpoint = checkpoint
    runner = Runner.from_cfg(cfg)
    runner.train()
    with open(osp.join(cfg.work_dir, 'transfer_report.json')) as f:
        transfer = json.load(f)
    scalars = osp.join(runner.log_dir, 'vis_data', 'scalars.json')
    metrics = [r for r in read_scalars(scalars) if 'coco/bbox_mAP' in r]
    return dict(
        work_dir=cfg.work_dir,
        log=osp.join(runner.log_dir, f'{runner.timestamp}.log'),
        report=transfer,
        map=metrics[-1]['coco/bbox_mAP'] if metrics else None,
        iters=runner.iter,
        data=coco,
    )


def report(pre: dict, pictures: Sequence[str], fcos: dict) -> str:
    """The demo's closing summary: numbers and every file written."""
    counts = ', '.join(
        f'{m} {len(e["loaded"])}/{len(e["loaded"]) + len(e["fresh"])}'
        for m, e in fcos['report']['modules'].items()
    )
    first, last = pre['records'][0], pre['records'][-1]
    lines = [
        '',
        '=' * 72,
        'mmpixpro demo: PixPro pre-training on the bundled photos',
        f'  data         {pre["data_root"]} ({pre["images"]} images, two views each)',
        f'  model        ResNet-{pre["depth"]} C5 + dense projector + PPM, '
        'momentum target',
        f'  trained      {pre["iters"]} iterations, {pre["epochs"]} epochs in '
        f'{pre["minutes"]:.1f} min on {torch.get_num_threads()} CPU threads',
        f'  loss         {first["loss"]:.3f} (iter {first["iter"]}) -> '
        f'{last["loss"]:.3f} (iter {last["iter"]}); best possible -4',
        f'  spread       {first["feature_spread"]:.3f} -> '
        f'{last["feature_spread"]:.3f} (pixel-feature spread, ~1 varied, 0 collapsed)',
        f'  tau          {first["momentum_tau"]:.5f} -> {last["momentum_tau"]:.5f}',
        f'  checkpoint   {pre["checkpoint"]}',
        f'  log          {pre["log"]}',
        f'  scalars      {pre["scalars"]}',
        f'  pictures     {len(pictures)} PNGs (PCA colours, similarity maps):',
        *[f'               {p}' for p in pictures],
        'FCOS fine-tuning from it (generated COCO-format data, ResNet-18):',
        f'  data         {fcos["data"]}',
        f'  loaded       tensors from the checkpoint per module: {counts}',
        f'  trained      {fcos["iters"]} iterations; bbox mAP {fcos["map"]}',
        f'  report       {osp.join(fcos["work_dir"], "transfer_report.json")}',
        f'  log          {fcos["log"]}',
        '=' * 72,
    ]
    return '\n'.join(lines)


def run_demo(
    config: str,
    fcos_config: str,
    photos: Sequence[str],
    work_dir: str,
    cfg_options: Optional[dict] = None,
    log: Callable[[str], None] = print,
) -> str:
    """All the steps; returns the summary (:func:`report`).

    Args:
        config: The pre-training config (its ``data_root`` is used).
        fcos_config: The FCOS benchmark config to fine-tune.
        photos: Images to draw the features of.
        work_dir: Where everything is written.
        cfg_options: Overrides of the pre-training config.
        log: Called with the step headers and the pictures' progress.
    """
    from mmpixpro.utils import register_all_modules
    from mmpixpro.visualization import draw_dense_features

    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.work_dir = work_dir
    log('\n[1/3] PixPro pre-training on the bundled photos')
    pre = pretrain(cfg)
    log('\n[2/3] Dense-feature pictures: checkpoint vs random init')
    features = osp.join(work_dir, 'features')
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    pictures = draw_dense_features(
        config, pre['checkpoint'], photos, features, [224], device=device, log=log
    )
    log('\n[3/3] FCOS fine-tuning from the checkpoint (mmdet Runner)')
    fcos = fine_tune_fcos(fcos_config, pre['checkpoint'], work_dir)
    return report(pre, pictures, fcos)
