"""Peak memory of the PixPro part alone (pair rule, PPM, loss, forward and
backward) at P3 of 448 px inputs, batch 16: dense against the memory-bounded
default, and the largest difference of their losses and gradients. Each
mode runs in a process of its own, so that its peak is its alone."""

import os
import os.path as osp
import subprocess
import sys
import tempfile

import torch

from .options import REPO

#: The child process: :func:`pixel_part_peak` with the command's arguments.
CHILD = (
    'import sys\n'
    'from mmpixpro.analysis.speed.memory import pixel_part_peak\n'
    'mode, batch, side, device, out_file = sys.argv[1:]\n'
    'pixel_part_peak(mode, int(batch), int(side), device, out_file)\n'
)


def _rss(field):
    with open('/proc/self/status') as f:
        line = next(x for x in f if x.startswith(field))
    return int(line.split()[1]) * 1024


def pixel_part_peak(mode, batch, side, device, out_file):
    """Bytes this process grows by for :meth:`PixelHead.loss` and its
    backward on four ``[batch, 256, side, side]`` levels (``mode`` ``'dense'``:
    ``max_elements=None``); saved with the loss and gradients to
    ``out_file``. On CPU the peak is the RSS high-water mark, reset first."""
    from mmpixpro.models import PixelHead

    torch.manual_seed(0)
    shape = (batch, 256, side, side)
    feats = [torch.randn(*shape, device=device, requires_grad=True) for _ in range(4)]
    xy = torch.rand(batch, 2, 2) * 0.3
    coords = torch.cat([xy, xy + 0.6], dim=-1).to(device)
    limit = None if mode == 'dense' else 1 << 22  # PixelHead / PPM default
    ppm = dict(type='PixelPropagationModule', in_channels=256, max_elements=limit)
    head = PixelHead(ppm=ppm, max_elements=limit).to(device)
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        with open('/proc/self/clear_refs', 'w') as f:  # resets VmHWM to VmRSS
            f.write('5')
        base = _rss('VmRSS')
    o1, o2, t1, t2 = ([f] for f in feats)
    out = head.loss(o1, o2, t1, t2, coords[:, 0], coords[:, 1])
    out['loss'].backward()
    if device == 'cuda':
        grown = torch.cuda.max_memory_allocated() - base
    else:
        grown = _rss('VmHWM') - base
    grads = dict(loss=out['loss'].detach(), g1=feats[0].grad, g2=feats[1].grad)
    found = {k: v.cpu() for k, v in grads.items()}
    torch.save(dict(found, peak=torch.tensor(grown)), out_file)


def measure_memory(device, tmp_dir, batch=16, side=56):
    """``(dense peak, bounded peak, max abs. difference)`` of
    :func:`pixel_part_peak` (peaks in bytes); the rows' setting by default."""
    found = {}
    for mode in ('dense', 'bounded'):
        out_file = osp.join(tmp_dir, f'{mode}.pt')
        # Large blocks through mmap, so that freed memory leaves the process
        # and its RSS high-water mark (VmHWM, reset just before) is the peak.
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536')
        args = [mode, str(batch), str(side), device, out_file]
        cmd = [sys.executable, '-c', CHILD, *args]
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env)
        if result.returncode != 0:
            raise RuntimeError(result.stderr[-2000:])
        found[mode] = torch.load(out_file)
    dense, bounded = found['dense'], found['bounded']
    diff = max((dense[k] - bounded[k]).abs().max().item() for k in dense if k != 'peak')
    return int(dense['peak']), int(bounded['peak']), diff


def memory_rows(options, log):
    """:func:`measure_memory` as two table rows (passed to ``log``) and the
    report entry ``'memory'``."""
    with tempfile.TemporaryDirectory() as tmp:
        dense, bounded, diff = measure_memory(options.device, tmp)
    gib = 1 << 30
    lines = [
        f'| PixPro part peak memory, P3 448 px, batch 16 (GiB) | {dense / gib:.2f} '
        f'(dense) | {bounded / gib:.2f} | {bounded / dense:.2f} | <= 1 GiB |',
        f'| max abs. difference of loss and gradients | | {diff:.2e} | | <= 1e-5 |',
    ]
    log('\n'.join(lines))
    return lines, {'memory': dict(dense=dense, bounded=bounded, max_diff=diff)}
