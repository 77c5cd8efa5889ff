"""The demo: PixPro pre-training on the twelve bundled photos, on CPU; its
feature pictures; FCOS fine-tuned from it in mmdet's Runner
(mmpixpro.apis.demo). Prints every file it wrote::

    python tools/demo.py [--work-dir work_dirs/demo] [--cfg-options ...]
"""

import argparse
import functools
import os
import os.path as osp

from mmengine.config import DictAction

from mmpixpro.apis.demo import run_demo

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(REPO, 'configs')
PHOTOS = osp.join(REPO, 'demo', 'photos')
FCOS = 'benchmarks/mmdet/fcos_r50_fpn_gn-head_1x_coco_mmdet-default.py'


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default = osp.join(CONFIGS, 'selfsup', 'pixpro_r18_c5_1xb4-coslr-40e_demo.py')
    parser.add_argument('--config', default=default)
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs', 'demo'))
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    args = parser.parse_args(argv)
    args.cfg_options.setdefault('train_dataloader.dataset.data_root', PHOTOS)
    photos = [osp.join(PHOTOS, name) for name in ('chelsea.png', 'coffee.png')]
    log = functools.partial(print, flush=True)
    summary = run_demo(
        args.config,
        osp.join(CONFIGS, FCOS),
        photos,
        args.work_dir,
        args.cfg_options,
        log,
    )
    print(summary, flush=True)


if __name__ == '__main__':
    os.chdir(REPO)
    main()
