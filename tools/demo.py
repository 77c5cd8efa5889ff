"""The demo: PixPro pre-training on the twelve bundled photos, on CPU; its
feature pictures; FCOS fine-tuned from it in mmdet's Runner. Prints every
file it wrote::

    python tools/demo.py [--work-dir work_dirs/demo] [--cfg-options ...]

The story is this tool's, told with the package's parts:

1. pre-train the demo config through mmengine's Runner;
2. draw its dense features beside a random initialisation
   (:func:`mmpixpro.visualization.draw_dense_features`);
3. fine-tune FCOS (the benchmark config made small: ResNet-18, small images,
   a few iterations) on a generated COCO-format set in mmdet's Runner,
   initialised from the checkpoint by the transfer hook;
4. say what happened and list every file.
"""

import argparse
import functools
import json
import os
import os.path as osp
import time
from typing import List, Sequence

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmpixpro.benchmarks.transfer import find_hook_cfg
from mmpixpro.testing import coco_split_folders, small_benchmark_config, toy_data
from mmpixpro.utils import register_all_modules
from mmpixpro.utils.cli import add_debug_arg, run_tool
from mmpixpro.visualization import draw_dense_features

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(REPO, 'configs')
PHOTOS = osp.join(REPO, 'demo', 'photos')
FCOS = 'benchmarks/mmdet/fcos_r50_fpn_gn-head_1x_coco_mmdet-default.py'


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


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default = osp.join(CONFIGS, 'selfsup', 'pixpro_r18_c5_1xb4-coslr-40e_demo.py')
    parser.add_argument('--config', default=default)
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs', 'demo'))
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    args = add_debug_arg(parser).parse_args(argv)
    args.cfg_options.setdefault('train_dataloader.dataset.data_root', PHOTOS)
    photos = [osp.join(PHOTOS, name) for name in ('chelsea.png', 'coffee.png')]
    log = functools.partial(print, flush=True)

    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir
    log('\n[1/3] PixPro pre-training on the bundled photos')
    pre = pretrain(cfg)
    log('\n[2/3] Dense-feature pictures: checkpoint vs random init')
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    pictures = draw_dense_features(
        args.config,
        pre['checkpoint'],
        photos,
        osp.join(args.work_dir, 'features'),
        [224],
        device=device,
        log=log,
    )
    log('\n[3/3] FCOS fine-tuning from the checkpoint (mmdet Runner)')
    fcos = fine_tune_fcos(osp.join(CONFIGS, FCOS), pre['checkpoint'], args.work_dir)
    summary = report(pre, pictures, fcos)
    print(summary, flush=True)
    return summary


if __name__ == '__main__':
    os.chdir(REPO)
    run_tool(main)
