"""Peak memory and time of the PixPro part alone (pair rule, PPM, loss,
forward and backward) on one level: dense against chunked, and the largest
difference of their losses and gradients. Each mode runs in a process of
its own, so that its peak is its alone.

Two settings are measured: P3 of 448 px inputs at batch 16 (the table's
rows) and P3 of 224 px inputs at the configs' 128 images per GPU (the GPU
check, ``--pixel-head``). The mode is the head's ``max_elements`` (which
bounds its PPM too): ``None`` (one chunk, dense) against
:data:`CHUNKED_MAX_ELEMENTS` (rows in checkpointed chunks).
"""

import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time

import torch

from .options import REPO

#: ``max_elements`` of the chunked mode: the configs' CPU bound (16 MiB blocks).
CHUNKED_MAX_ELEMENTS = 1 << 22

#: The folder that holds this package (put on the child's ``sys.path``).
DEV_SCRIPTS = osp.dirname(osp.dirname(osp.abspath(__file__)))

#: The child process: :func:`pixel_part_peak` with the command's arguments.
CHILD = (
    'import sys\n'
    'from pixpro_speed.memory import pixel_part_peak\n'
    'mode, batch, side, device, repeats, out_file = sys.argv[1:]\n'
    'pixel_part_peak(mode, int(batch), int(side), device, out_file, int(repeats))\n'
)


def _rss(field):
    with open('/proc/self/status') as f:
        line = next(x for x in f if x.startswith(field))
    return int(line.split()[1]) * 1024


def _sync(device):
    if device == 'cuda':
        torch.cuda.synchronize()


def pixel_part_peak(mode, batch, side, device, out_file, repeats=0):
    """Bytes this process grows by for :meth:`PixelHead.loss` and its
    backward on one ``[batch, 256, side, side]`` level per view and branch
    (``mode`` ``'dense'``: ``max_elements=None``; ``'chunked'``:
    :data:`CHUNKED_MAX_ELEMENTS`), and the seconds of that first pass and the
    median of ``repeats`` more; saved with the loss and gradients to
    ``out_file``. On CPU the peak is the RSS high-water mark, reset first."""
    from mmpixpro.models import PixelHead

    torch.manual_seed(0)
    shape = (batch, 256, side, side)
    feats = [torch.randn(*shape, device=device, requires_grad=True) for _ in range(4)]
    xy = torch.rand(batch, 2, 2) * 0.3
    coords = torch.cat([xy, xy + 0.6], dim=-1).to(device)
    limit = None if mode == 'dense' else CHUNKED_MAX_ELEMENTS
    ppm = dict(type='PixelPropagationModule', in_channels=256)
    head = PixelHead(ppm=ppm, max_elements=limit)
    head = head.to(device)
    o1, o2, t1, t2 = ([f] for f in feats)

    def fwd_bwd():
        for f in feats:
            f.grad = None
        _sync(device)
        start = time.perf_counter()
        out = head.loss(o1, o2, t1, t2, coords[:, 0], coords[:, 1])
        loss = sum(v for k, v in out.items() if k.startswith('loss'))
        loss.backward()
        _sync(device)
        return loss, time.perf_counter() - start

    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        with open('/proc/self/clear_refs', 'w') as f:  # resets VmHWM to VmRSS
            f.write('5')
        base = _rss('VmRSS')
    loss, first = fwd_bwd()
    if device == 'cuda':
        grown = torch.cuda.max_memory_allocated() - base
    else:
        grown = _rss('VmHWM') - base
    grads = dict(loss=loss.detach(), g1=feats[0].grad, g2=feats[1].grad)
    found = {k: v.cpu() for k, v in grads.items()}
    times = [fwd_bwd()[1] for _ in range(repeats)]
    timing = dict(first=torch.tensor(first, dtype=torch.float64))
    if times:
        timing['median'] = torch.tensor(statistics.median(times), dtype=torch.float64)
    torch.save(dict(found, peak=torch.tensor(grown), **timing), out_file)


def measure_head_modes(device, tmp_dir, batch=16, side=56, repeats=0):
    """:func:`pixel_part_peak` of both modes, each in a process of its own.

    Returns:
        dict: per mode (``'dense'``, ``'chunked'``) its ``peak`` (bytes),
        ``first_s`` and with ``repeats`` ``median_s``; ``max_diff``: the
        largest absolute difference of loss and gradients; the setting
        (``batch``, ``side``, ``elements`` of one dense ``[N, HW, HW]`` block,
        ``chunked_max_elements``).
    """
    found = {}
    for mode in ('dense', 'chunked'):
        out_file = osp.join(tmp_dir, f'{mode}.pt')
        # Large blocks through mmap, so that freed memory leaves the process
        # and its RSS high-water mark (VmHWM, reset just before) is the peak.
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536')
        env['PYTHONPATH'] = os.pathsep.join(
            [DEV_SCRIPTS, REPO, env.get('PYTHONPATH', '')]
        ).rstrip(os.pathsep)
        args = [mode, str(batch), str(side), device, str(repeats), out_file]
        cmd = [sys.executable, '-c', CHILD, *args]
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env)
        if result.returncode != 0:
            raise RuntimeError(result.stderr[-2000:])
        found[mode] = torch.load(out_file, weights_only=True)
    numbers = ('loss', 'g1', 'g2')
    diff = max(
        (found['dense'][k] - found['chunked'][k]).abs().max().item() for k in numbers
    )
    report = dict(
        batch=batch,
        side=side,
        elements=batch * (side * side) ** 2,
        chunked_max_elements=CHUNKED_MAX_ELEMENTS,
        max_diff=diff,
    )
    for mode, saved in found.items():
        report[mode] = dict(peak=int(saved['peak']), first_s=float(saved['first']))
        if 'median' in saved:
            report[mode]['median_s'] = float(saved['median'])
    return report


def memory_rows(options, log):
    """:func:`measure_head_modes` at P3 of 448 px, batch 16, as two table rows
    (passed to ``log``) and the report entry ``'memory'``."""
    with tempfile.TemporaryDirectory() as tmp:
        found = measure_head_modes(options.device, tmp)
    dense, chunked = found['dense']['peak'], found['chunked']['peak']
    diff = found['max_diff']
    gib = 1 << 30
    lines = [
        f'| PixPro part peak memory, P3 448 px, batch 16 (GiB) | {dense / gib:.2f} '
        f'(dense) | {chunked / gib:.2f} | {chunked / dense:.2f} | <= 1 GiB |',
        f'| max abs. difference of loss and gradients | | {diff:.2e} | | <= 1e-5 |',
    ]
    log('\n'.join(lines))
    return lines, {'memory': dict(dense=dense, bounded=chunked, max_diff=diff)}


def pixel_head_report(options, log):
    """Dense against chunked at P3 (``options.size / 8``) of ``options.batch``
    images, forward + backward timed over ``options.steps`` repeats: the GPU
    check's measurement (``--pixel-head``); the report is written to
    ``options.json``."""
    side = options.size // 8
    with tempfile.TemporaryDirectory() as tmp:
        found = measure_head_modes(
            options.device, tmp, options.batch, side, repeats=options.steps
        )
    report = dict(device=options.device, size=options.size, level='P3', **found)
    gib = 1 << 30
    for mode in ('dense', 'chunked'):
        entry = found[mode]
        log(
            f'pixel head, {mode}: P3 {side}x{side}, batch {options.batch}: peak '
            f'{entry["peak"] / gib:.2f} GiB, fwd + bwd '
            f'{entry.get("median_s", entry["first_s"]):.4f} s'
        )
    log(
        f'pixel head: max abs. difference of loss and gradients {found["max_diff"]:.2e}'
    )
    return report
