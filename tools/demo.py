"""The demo: PixPro pre-training on the twelve bundled photos, on CPU.

    python tools/demo.py [--work-dir work_dirs/demo] [--cfg-options ...]

Trains the demo config through mmengine's Runner (the same path as
tools/train.py), then checks that the checkpoint's backbone loads into
mmdet's ResNet without conversion, and prints what was written.
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


def backbone_into_mmdet(cfg: Config, ckpt: str) -> int:
    """Load ``backbone.*`` into an mmdet ResNet; return the tensor count."""
    from mmpixpro.registry import MODELS

    depth = cfg.model.backbone.depth
    resnet = MODELS.build(
        dict(
            type='mmdet.ResNet',
            depth=depth,
            init_cfg=dict(type='Pretrained', checkpoint=ckpt, prefix='backbone.'),
        )
    )
    resnet.init_weights()
    state = torch.load(ckpt, map_location='cpu', weights_only=True)
    source = {
        k[len('backbone.') :]: v
        for k, v in state['state_dict'].items()
        if k.startswith('backbone.')
    }
    own = resnet.state_dict()
    missing = sorted(set(own) - set(source))
    if missing:
        raise RuntimeError(f'mmdet ResNet-{depth} misses {missing[:5]}')
    differ = [k for k in own if not torch.equal(own[k], source[k])]
    if differ:
        raise RuntimeError(f'tensors differ after loading: {differ[:5]}')
    return len(own)


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

    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    elapsed = time.time() - start

    ckpt = osp.join(cfg.work_dir, f'epoch_{runner.epoch}.pth')
    log_dir = runner.log_dir
    log_file = osp.join(log_dir, f'{runner.timestamp}.log')
    scalars_file = osp.join(log_dir, 'vis_data', 'scalars.json')
    records = [r for r in read_scalars(scalars_file) if 'loss' in r]
    n_tensors = backbone_into_mmdet(cfg, ckpt)

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
        f'  transfer     backbone.* loaded into mmdet ResNet-'
        f'{cfg.model.backbone.depth}: {n_tensors} tensors, none missing',
        '=' * 72,
    ]
    print('\n'.join(lines))
    sys.stdout.flush()


if __name__ == '__main__':
    os.chdir(REPO)
    main()
