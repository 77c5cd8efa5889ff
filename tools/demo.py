"""The demo: PixPro pre-training on the twelve bundled photos, on CPU.

    python tools/demo.py [--work-dir work_dirs/demo] [--cfg-options ...]

1. trains the demo config through mmengine's Runner (as tools/train.py);
2. draws its dense features (tools/analysis/visualize_dense_features.py);
3. fine-tunes FCOS from that checkpoint on a generated COCO-format set with
   our benchmark config (ResNet-18, small images, a few iterations) in mmdet's
   Runner, with the transfer report;
and prints every file it wrote.
"""

import argparse
import json
import os
import os.path as osp
import sys
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmpixpro.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
FCOS_CONFIG = osp.join(
    REPO, 'configs', 'benchmarks', 'mmdet', 'fcos_r50_fpn_gn-head_1x_coco_mmdet-default.py'
)
DEMO_CONFIG = osp.join(
    REPO, 'configs', 'selfsup', 'pixpro_r18_c5_1xb4-coslr-40e_demo.py'
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=DEMO_CONFIG)
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs', 'demo'))
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def read_scalars(path: str) -> list:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def draw_features(config: str, ckpt: str, out_dir: str) -> list:
    """PCA-colour and similarity pictures of two photos' C5 features."""
    import importlib.util

    path = osp.join(REPO, 'tools', 'analysis', 'visualize_dense_features.py')
    spec = importlib.util.spec_from_file_location('visualize_dense_features', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    photos = [
        osp.join(REPO, 'demo', 'photos', p) for p in ('chelsea.png', 'coffee.png')
    ]
    return tool.main([config, ckpt, *photos, '--out-dir', out_dir, '--size', '224'])


def fine_tune_fcos(ckpt: str, work_dir: str) -> dict:
    """FCOS (our benchmark config, ResNet-18, small images) on a generated
    COCO set, initialised from ``ckpt`` by the transfer hook."""
    from mmpixpro.benchmarks.small import coco_split_folders, small_benchmark_config
    from mmpixpro.benchmarks.transfer import find_hook_cfg
    from mmpixpro.utils import toy_data

    coco = osp.join(work_dir, 'coco')
    anns = toy_data.make_coco(
        coco, splits={'train2017': 24, 'val2017': 8}, size=(120, 160)
    )
    cfg = Config.fromfile(FCOS_CONFIG)
    small_benchmark_config(
        cfg,
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
    find_hook_cfg(cfg).checkpoint = ckpt
    runner = Runner.from_cfg(cfg)
    runner.train()
    with open(osp.join(cfg.work_dir, 'transfer_report.json')) as f:
        report = json.load(f)
    metrics = [
        r
        for r in read_scalars(osp.join(runner.log_dir, 'vis_data', 'scalars.json'))
        if 'coco/bbox_mAP' in r
    ]
    return dict(
        work_dir=cfg.work_dir,
        log=osp.join(runner.log_dir, f'{runner.timestamp}.log'),
        report=report,
        map=metrics[-1]['coco/bbox_mAP'] if metrics else None,
        iters=runner.iter,
        data=coco,
    )


def main(argv=None) -> None:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir
    data_root = cfg.train_dataloader.dataset.data_root
    if not osp.isabs(data_root):
        cfg.train_dataloader.dataset.data_root = osp.join(REPO, data_root)

    print('\n[1/3] PixPro pre-training on the bundled photos', flush=True)
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    elapsed = time.time() - start

    ckpt = osp.join(cfg.work_dir, f'epoch_{runner.epoch}.pth')
    log_dir = runner.log_dir
    log_file = osp.join(log_dir, f'{runner.timestamp}.log')
    scalars_file = osp.join(log_dir, 'vis_data', 'scalars.json')
    records = [r for r in read_scalars(scalars_file) if 'loss' in r]
    print('\n[2/3] Dense-feature pictures: checkpoint vs random init', flush=True)
    pictures = draw_features(args.config, ckpt, osp.join(cfg.work_dir, 'features'))
    print('\n[3/3] FCOS fine-tuning from the checkpoint (mmdet Runner)', flush=True)
    fcos = fine_tune_fcos(ckpt, cfg.work_dir)
    modules = fcos['report']['modules']
    counts = ', '.join(
        f'{m} {len(e["loaded"])}/{len(e["loaded"]) + len(e["fresh"])}'
        for m, e in modules.items()
    )

    first, last = records[0], records[-1]
    lines = [
        '',
        '=' * 72,
        'mmpixpro demo: PixPro pre-training on the bundled photos',
        f'  data         {cfg.train_dataloader.dataset.data_root} '
        f'({len(runner.train_dataloader.dataset)} images, two views each)',
        f'  model        ResNet-{cfg.model.backbone.depth} C5 + dense '
        'projector + PPM, momentum target',
        f'  trained      {runner.iter} iterations, {runner.epoch} epochs in '
        f'{elapsed / 60:.1f} min on {torch.get_num_threads()} CPU threads',
        f'  loss         {first["loss"]:.3f} (iter {first["iter"]}) -> '
        f'{last["loss"]:.3f} (iter {last["iter"]}); best possible -4',
        f'  spread       {first["feature_spread"]:.3f} -> '
        f'{last["feature_spread"]:.3f} (pixel-feature spread, ~1 varied, 0 collapsed)',
        f'  tau          {first["momentum_tau"]:.5f} -> {last["momentum_tau"]:.5f}',
        f'  checkpoint   {ckpt}',
        f'  log          {log_file}',
        f'  scalars      {scalars_file}',
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
    print('\n'.join(lines))
    sys.stdout.flush()


if __name__ == '__main__':
    os.chdir(REPO)
    main()
