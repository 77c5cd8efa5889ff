"""The correctness run of the GPU check (``tools/analysis/gpu_check.sh``):
``tools/train.py`` with pre-training configs for a few iterations each, with
``--amp``, channels_last, SyncBN (BN in one process) and the config's
optimizer, on the bundled photos; the pixel head's dense and chunked paths
against each other; a checkpoint, a resume from it, and the resumed losses
against those of the run that was not interrupted::

    python .dev_scripts/train_check.py OUT_DIR [--configs C5 FPN]
        [--paths dense chunked] [--chunked-max-elements 262144]
        [--batch 128] [--iters-per-epoch 2] [--size 224] [--depth 50]
        [--workers 8] [--tolerance 1e-3] [--timeout 600]

Per config (``C5``: ``pixpro_r50_c5_8xb128-coslr-100e_in1k.py``, ``FPN``:
``pixpro_r50_fcos-fpn-head_8xb128-coslr-100e_in1k.py``), in ``OUT_DIR/NAME``:

1. ``config.py``: the config with its data on a list of the bundled photos
   repeated (``batch x iters-per-epoch`` images an epoch), two epochs, a
   checkpoint and a log line every epoch / iteration, ``channels_last``;
   ``--depth`` / ``--size`` other than 50 / 224 shrink it
   (:func:`mmpixpro.testing.shrink_config`, for the CPU test);
2. ``straight-<path>/``: both epochs in one run for each path, the pixel
   head's bound given on the command line (``model.head.max_elements``):
   ``dense`` None (one block per level), ``chunked``
   ``--chunked-max-elements`` (2**18 by default: C5 and P3-P5 of 224 px at
   128 images run in checkpointed row chunks); checkpoints ``epoch_1.pth``,
   ``epoch_2.pth``;
3. ``resumed/``: a run resumed from the first path's ``epoch_1.pth``,
   launched with the last path's bound: it keeps the checkpoint's (the log
   says so when they differ; the state of the weights, optimizer, loss
   scaler and schedules; the data order comes from the seed and the epoch).

Compared, over the logged losses (and lr, momentum ``tau``, positive pairs):
the resumed epoch 2 against the straight run of its path (``max_rel_diff``,
``identical`` when every value is equal, ``ok`` when within ``--tolerance``:
cuDNN's backward is not bitwise reproducible between processes, and the
losses are fp16), and the paths' straight runs against each other
(``paths_max_rel_diff``: the same maths in another summation order). Peak
memory is mmengine's logged ``memory`` (MiB, CUDA only), per path. The report
goes to ``OUT_DIR/train_check.json`` after each config.
"""

import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PHOTOS = osp.join(REPO, 'demo', 'photos')
TRAIN = osp.join(REPO, 'tools', 'train.py')
CONFIGS = {
    'C5': 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py',
    'FPN': 'pixpro_r50_fcos-fpn-head_8xb128-coslr-100e_in1k.py',
}
#: Logged values compared between the straight and the resumed run.
COMPARED = ('loss', 'lr', 'momentum_tau', 'num_pos_pairs')
EPOCHS = 2
#: The line of ``PixelHead`` when a checkpoint's bound replaces the launch's.
KEPT = 'from the checkpoint replaces'


def photo_list(path, count):
    """A list file of ``count`` bundled photos (cycled), relative to PHOTOS."""
    photos = sorted(f for f in os.listdir(PHOTOS) if f.endswith(('.png', '.jpg')))
    with open(path, 'w') as f:
        f.writelines(f'{photos[i % len(photos)]}\n' for i in range(count))
    return path


def check_config(name, args, root):
    """``configs/selfsup/<CONFIGS[name]>`` set up for the check, dumped to
    ``root/config.py`` (see the module's docstring)."""
    from mmengine.config import Config

    from mmpixpro.testing import shrink_config

    cfg = Config.fromfile(osp.join(REPO, 'configs', 'selfsup', CONFIGS[name]))
    if args.depth != 50 or args.size != 224:
        shrink_config(
            cfg,
            args.depth,
            small_heads=args.depth < 50,
            crop_size=None if args.size == 224 else args.size,
        )
    images = args.batch * args.iters_per_epoch
    cfg.train_dataloader.update(batch_size=args.batch, num_workers=args.workers)
    cfg.train_dataloader.dataset.update(
        data_root=PHOTOS, ann_file=photo_list(osp.join(root, 'photos.txt'), images)
    )
    cfg.train_cfg.max_epochs = EPOCHS
    cfg.default_hooks.checkpoint.update(interval=1, max_keep_ckpts=EPOCHS)
    cfg.default_hooks.logger.interval = 1
    cfg.model.channels_last = True
    path = osp.join(root, 'config.py')
    cfg.dump(path)
    return path


def scalars(work_dir):
    """Per-iteration records of every run (timestamp folder) in work_dir."""
    records = {}
    pattern = osp.join(work_dir, '*', 'vis_data', 'scalars.json')
    for path in sorted(glob.glob(pattern)):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if 'loss' in record:
                    records[record['iter']] = record
    return records


def train(config, work_dir, args, *extra):
    """``tools/train.py config --work-dir work_dir --amp *extra``, its output
    in ``work_dir.log``; returns ``(return code, seconds)``."""
    cmd = [sys.executable, TRAIN, config, '--work-dir', work_dir, '--amp', *extra]
    start = time.perf_counter()
    with open(f'{work_dir}.log', 'w') as log:
        log.write(' '.join(cmd) + '\n')
        log.flush()
        try:
            rc = subprocess.run(
                cmd,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=args.timeout,
            ).returncode
        except subprocess.TimeoutExpired:
            rc = 'timeout'
    return rc, time.perf_counter() - start


def log_tail(path, chars=3000):
    """The last ``chars`` characters of a log (None: all of it)."""
    with open(path, errors='replace') as f:
        text = f.read()
    return text if chars is None else text[-chars:]


def compare(straight, resumed, iters, tolerance):
    """Largest relative difference of :data:`COMPARED` over ``iters``."""
    worst, identical = 0.0, True
    for it in iters:
        for key in COMPARED:
            a, b = straight[it].get(key), resumed[it].get(key)
            if a is None and b is None:
                continue
            if a is None or b is None:
                return dict(ok=False, error=f'iteration {it}: {key} logged once')
            identical &= a == b
            worst = max(worst, abs(a - b) / max(abs(a), 1e-12))
    return dict(ok=worst <= tolerance, identical=identical, max_rel_diff=worst)


def bound_of(path, args):
    """``model.head.max_elements`` of a path, as ``--cfg-options`` text."""
    return 'None' if path == 'dense' else str(args.chunked_max_elements)


def straight_run(config, root, path, args):
    """Both epochs with ``path``'s bound: its report entry and records."""
    work_dir = osp.join(root, f'straight-{path}')
    bound = f'model.head.max_elements={bound_of(path, args)}'
    rc, seconds = train(config, work_dir, args, '--cfg-options', bound)
    entry = dict(max_elements=bound_of(path, args), straight_s=seconds)
    records = scalars(work_dir)
    total = EPOCHS * args.iters_per_epoch
    if rc != 0 or sorted(records) != list(range(1, total + 1)):
        error = f'straight run ({path}): {rc}, iterations {sorted(records)}'
        return dict(entry, error=error, log=log_tail(f'{work_dir}.log')), None
    entry['losses'] = [records[it]['loss'] for it in sorted(records)]
    memory = [r['memory'] for r in records.values() if 'memory' in r]
    entry['peak_memory_mib'] = max(memory) if memory else None
    times = [records[it]['time'] for it in sorted(records)[1:] if 'time' in records[it]]
    entry['iter_s'] = sorted(times)[len(times) // 2] if times else None
    return entry, records


def check(name, args):
    """Straight runs of each path and a resume of the first: the config's
    report entry."""
    root = osp.join(args.out_dir, name)
    os.makedirs(root, exist_ok=True)
    config = check_config(name, args, root)
    entry = dict(config=CONFIGS[name], batch=args.batch, size=args.size)
    entry.update(depth=args.depth, iters_per_epoch=args.iters_per_epoch, paths={})
    runs = {}
    for path in args.paths:
        entry['paths'][path], runs[path] = straight_run(config, root, path, args)
        if runs[path] is None:
            return dict(entry, ok=False, error=entry['paths'][path].pop('error'))
    first, last = args.paths[0], args.paths[-1]
    checkpoint = osp.join(root, f'straight-{first}', 'epoch_1.pth')
    entry['checkpoint_mib'] = osp.getsize(checkpoint) / (1 << 20)
    resumed = osp.join(root, 'resumed')
    launch = f'model.head.max_elements={bound_of(last, args)}'
    rc, entry['resumed_s'] = train(
        config, resumed, args, '--resume', checkpoint, '--cfg-options', launch
    )
    log = log_tail(f'{resumed}.log', chars=None)
    if rc != 0:
        return dict(entry, ok=False, error=f'resumed run: {rc}', log=log[-3000:])
    b = scalars(resumed)
    after = list(range(args.iters_per_epoch + 1, EPOCHS * args.iters_per_epoch + 1))
    if sorted(b) != after:
        return dict(entry, ok=False, error=f'resumed iterations logged: {sorted(b)}')
    entry.update(resumed_from=first, resumed_launched_with=last)
    entry['kept_bound'] = (KEPT in log) == (first != last)
    entry.update(compare(runs[first], b, after, args.tolerance))
    entry['resumed_losses'] = [b[it]['loss'] for it in after]
    if first != last:
        every = list(range(1, EPOCHS * args.iters_per_epoch + 1))
        paths = compare(runs[first], runs[last], every, args.tolerance)
        entry['paths_max_rel_diff'] = paths.get('max_rel_diff')
        entry['paths_ok'] = paths['ok']
    entry['ok'] = entry['ok'] and entry['kept_bound'] and entry.get('paths_ok', True)
    return entry


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add('out_dir')
    add('--configs', nargs='+', default=list(CONFIGS), choices=list(CONFIGS))
    add(
        '--paths', nargs='+', default=['dense', 'chunked'], choices=['dense', 'chunked']
    )
    add(
        '--chunked-max-elements',
        type=int,
        default=1 << 18,
        help="the pixel head's bound on the chunked path",
    )
    add('--batch', type=int, default=128, help='images per iteration (2 views each)')
    add('--iters-per-epoch', type=int, default=2)
    add('--size', type=int, default=224, help='view size (224: the configs)')
    add('--depth', type=int, default=50, help='ResNet depth (50: the configs)')
    add('--workers', type=int, default=min(8, os.cpu_count() or 1))
    add('--tolerance', type=float, default=1e-3, help='largest relative difference')
    add('--timeout', type=float, default=600, help='seconds per training run')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    args.out_dir = osp.abspath(args.out_dir)
    os.makedirs(args.out_dir, exist_ok=True)
    report = dict(tolerance=args.tolerance, results={})
    out = osp.join(args.out_dir, 'train_check.json')
    for name in args.configs:
        entry = check(name, args)
        report['results'][name] = entry
        print(
            f'train_check {name}: '
            + json.dumps({k: v for k, v in entry.items() if k != 'log'}),
            flush=True,
        )
        with open(out, 'w') as f:
            json.dump(report, f, indent=1)
    report['ok'] = all(e['ok'] for e in report['results'].values())
    with open(out, 'w') as f:
        json.dump(report, f, indent=1)
    return report


if __name__ == '__main__':
    sys.exit(0 if main()['ok'] else 1)
