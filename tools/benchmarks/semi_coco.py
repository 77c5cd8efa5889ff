"""Semi-supervised COCO (Table 6): every fold x percentage, then mean ± std.

    python tools/benchmarks/semi_coco.py CHECKPOINT --percents 1 10 --folds 1 2 3 4 5 \\
        --gpus 8 --work-root work_dirs/semi_coco

Each run fine-tunes Mask R-CNN R50-FPN on one labelled fold
(``{ann_dir}/instances_train2017.{fold}@{percent}.json``, written by
tools/misc/split_coco.py) through tools/benchmarks/train.py (torchrun when
``--gpus`` > 1), in ``{work_root}/mask-rcnn_r50_fpn_coco-{fold}@{percent}``.
Finished runs (with bbox mAP in their logs) are skipped, so the command can be
repeated after an interruption. At the end tools/analysis/aggregate_folds.py
prints the table and writes ``{work_root}/summary.{csv,json}``.
"""

import argparse
import importlib.util
import os.path as osp
import subprocess
import sys
import time
from typing import List, Optional, Sequence

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_TEMPLATE = osp.join(
    REPO,
    'configs',
    'benchmarks',
    'mmdet',
    'semi_coco',
    'mask-rcnn_r50_fpn_8xb2-ms-12e_coco-{percent}pct_paper-arch.py',
)


def load_tool(relpath: str):
    spec = importlib.util.spec_from_file_location(
        osp.basename(relpath)[:-3], osp.join(REPO, relpath)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint', help='PixPro checkpoint to fine-tune')
    parser.add_argument('--percents', nargs='+', type=float, default=[1.0, 10.0])
    parser.add_argument('--folds', nargs='+', type=int, default=[1, 2, 3, 4, 5])
    parser.add_argument(
        '--gpus', type=int, default=1, help='GPUs per run (torchrun if > 1)'
    )
    parser.add_argument('--work-root', default='work_dirs/semi_coco')
    parser.add_argument(
        '--ann-dir',
        default='semi_anns',
        help="folder of the split files, relative to the config's data_root",
    )
    parser.add_argument(
        '--config-template',
        default=CONFIG_TEMPLATE,
        help='config path with {percent} (formatted like 1, 10, 0.5)',
    )
    parser.add_argument(
        '--cfg-options', nargs='+', default=[], help='passed to every run'
    )
    parser.add_argument('--force', action='store_true', help='rerun finished runs')
    parser.add_argument(
        '--dry-run', action='store_true', help='print the commands only'
    )
    return parser.parse_args(argv)


def run_command(args, config: str, work_dir: str, ann_file: str) -> List[str]:
    options = [
        '--work-dir',
        work_dir,
        '--cfg-options',
        f'train_dataloader.dataset.ann_file={ann_file}',
    ]
    options += args.cfg_options
    if args.gpus > 1:
        script = osp.join(REPO, 'tools', 'benchmarks', 'dist_benchmark.sh')
        return ['bash', script, config, args.checkpoint, str(args.gpus), *options]
    script = osp.join(REPO, 'tools', 'benchmarks', 'train.py')
    return [sys.executable, script, config, args.checkpoint, *options]


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    aggregate_folds = load_tool('tools/analysis/aggregate_folds.py')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} not found')
    plan = []
    for percent in args.percents:
        name = aggregate_folds.format_percent(percent)
        config = args.config_template.format(percent=name)
        if not osp.isfile(config):
            raise FileNotFoundError(f'no config for {name} %: {config!r}')
        for fold in args.folds:
            work_dir = osp.join(args.work_root, f'mask-rcnn_r50_fpn_coco-{fold}@{name}')
            ann_file = f'{args.ann_dir}/instances_train2017.{fold}@{name}.json'
            plan.append((fold, name, config, work_dir, ann_file))

    start = time.time()
    for index, (fold, name, config, work_dir, ann_file) in enumerate(plan, 1):
        head = f'[{index}/{len(plan)}] fold {fold} @ {name} %'
        if not args.force and not args.dry_run:
            try:
                aggregate_folds.read_run(work_dir)
                print(f'{head}: finished before, skipped ({work_dir})', flush=True)
                continue
            except (FileNotFoundError, ValueError):
                pass
        cmd = run_command(args, config, work_dir, ann_file)
        print(f'{head}: {" ".join(cmd)}', flush=True)
        if args.dry_run:
            continue
        result = subprocess.run(cmd, cwd=REPO)
        if result.returncode != 0:
            raise RuntimeError(
                f'{head} failed (exit {result.returncode}); see {work_dir}'
            )
        print(f'{head}: done, {(time.time() - start) / 60:.1f} min so far', flush=True)
    if args.dry_run:
        return {}
    work_dirs = [work_dir for _, _, _, work_dir, _ in plan]
    return aggregate_folds.main(
        ['--work-dirs', *work_dirs, '--out', osp.join(args.work_root, 'summary')]
    )


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, RuntimeError, ValueError) as exc:
        print(f'semi_coco.py: error: {exc}', file=sys.stderr)
        sys.exit(2)
