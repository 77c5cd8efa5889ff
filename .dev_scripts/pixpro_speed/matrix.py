"""This tree's training step with AMP, channels_last and compile each on and
off, one process per combination: images / s, peak device memory, compile
time (part of ``tools/analysis/gpu_check.sh``)."""

import argparse
import json
import statistics
import tempfile
import time

import torch

from .models import STEP_CONFIGS
from .options import REPO
from .revisions import StepWorker, worker_spec

#: ImageNet-1K iterations per epoch at the configs' 8 x 128 images.
IN1K_EPOCH_ITERS = 1281167 // 1024

#: Every combination, the configs' GPU setting (AMP, channels_last) first;
#: compiled ones last, as each compiles for minutes.
ALL_COMBOS = sorted(
    [(a, c, k) for a in (True, False) for c in (True, False) for k in (False, True)],
    key=lambda combo: (combo[2], not combo[0], not combo[1]),
)


def parse_combo(text):
    """``'amp,channels_last,compile'`` as three 0 / 1 flags, e.g. ``1,1,0``."""
    flags = [int(v) for v in text.split(',')]
    if len(flags) != 3 or set(flags) - {0, 1}:
        raise argparse.ArgumentTypeError(f'combo {text!r}: three 0/1 flags')
    return tuple(bool(v) for v in flags)


def write_json(report, path):
    """``report`` as JSON in ``path`` (None: nowhere)."""
    if path:
        with open(path, 'w') as f:
            json.dump(report, f, indent=1)


def measure_combos(options, tmp_dir, log):
    """Training steps of every combination, one after another. After the
    first, a combination starts only if, taking as long as the longest so
    far, it ends within ``options.budget`` seconds; ``options.json`` is
    rewritten after each (and each result passed to ``log`` as JSON)."""
    start = time.perf_counter()
    report = dict(
        device=options.device,
        name=torch.cuda.get_device_name() if options.device == 'cuda' else 'cpu',
        torch=torch.__version__,
        depth=options.depth,
        batch=options.batch,
        size=options.size,
        steps=options.steps,
        epoch_iters_in1k=IN1K_EPOCH_ITERS,
        results=[],
    )
    longest = 0.0  # the longest combination so far: the next one's estimate
    for config_name in options.matrix_configs:
        for amp, channels_last, compiled in options.combos or ALL_COMBOS:
            entry = dict(
                config=config_name,
                amp=amp,
                channels_last=channels_last,
                compile=compiled,
            )
            report['results'].append(entry)
            elapsed = time.perf_counter() - start
            over = options.budget is not None and elapsed + longest > options.budget
            if longest and over:  # (the first one always runs)
                entry['status'] = 'skipped: would not end within --budget'
                continue
            begun = time.perf_counter()
            spec = worker_spec(
                options,
                REPO,
                STEP_CONFIGS[config_name],
                tmp_dir,
                amp=amp,
                channels_last=channels_last,
                compile=dict(backend=options.compile_backend) if compiled else None,
            )
            worker = None
            try:
                worker = StepWorker(spec, tmp_dir, 'matrix')
                results = [worker.step() for _ in range(options.steps + 2)]
            except Exception as error:  # noqa: BLE001 - record, go on
                entry['status'] = f'failed: {str(error)[-500:]}'
                continue
            finally:
                if worker is not None:
                    worker.close()
            longest = max(longest, time.perf_counter() - begun)
            step = statistics.median(r['time'] for r in results[2:])
            peaks = [r['peak'] for r in results if r['peak'] is not None]
            entry.update(
                status='ok',
                step_s=step,
                images_per_s=options.batch / step,
                views_per_s=2 * options.batch / step,
                peak_mem_gib=max(peaks) / (1 << 30) if peaks else None,
                warmup_s=sum(r['time'] - step for r in results[:2]),
            )
            log(json.dumps(entry))
            write_json(payback(report), options.json)
    return payback(report)


def payback(report):
    """For each compiled result: steps until its compile time is saved,
    against the same setting uncompiled (``None``: never)."""
    done = {
        (r['config'], r['amp'], r['channels_last'], r['compile']): r
        for r in report['results']
        if r.get('status') == 'ok'
    }
    for (config, amp, cl, compiled), entry in done.items():
        eager = done.get((config, amp, cl, False))
        if compiled and eager:
            saved = eager['step_s'] - entry['step_s']
            entry['compiled_vs_eager'] = entry['step_s'] / eager['step_s']
            entry['payback_steps'] = entry['warmup_s'] / saved if saved > 0 else None
    return report


def step_matrix(options, log):
    """:func:`measure_combos` in a temporary folder; the report is written to
    ``options.json`` at the end too."""
    if options.threads:
        torch.set_num_threads(options.threads)
    with tempfile.TemporaryDirectory() as tmp:
        report = measure_combos(options, tmp, log)
    write_json(report, options.json)
    return report
