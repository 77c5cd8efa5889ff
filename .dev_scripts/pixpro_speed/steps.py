"""Training steps of PixPro against the instance-level step, in one process.

The plain step is the same model (backbone, projector, momentum target) with
:class:`~.models.PooledCosineHead` instead of the pixel head. Steps of the
compared models are interleaved, so that load changes hit all of them.
"""

import statistics
import time

import torch

from .models import STEP_CONFIGS, PooledCosineHead, config_in, step_model
from .options import REPO
from .worker import box_samples


def fake_batch(batch, size, device):
    """Two float views of ``batch`` images and their samples (seed 0)."""
    torch.manual_seed(0)
    imgs = [torch.randn(batch, 3, size, size, device=device) for _ in range(2)]
    return imgs, box_samples(batch)


class Stepper:
    """One training step (forward, backward, SGD) of a model on a fixed batch."""

    def __init__(self, model, batch, size, device, amp):
        from mmengine.logging import MessageHub

        MessageHub.get_current_instance().update_info('max_iters', 1000)
        self.model = model.to(device).train()
        params = [p for p in model.parameters() if p.requires_grad]
        self.opt = torch.optim.SGD(params, lr=1e-3)
        self.imgs, self.samples = fake_batch(batch, size, device)
        self.device, self.amp = device, amp

    def __call__(self) -> float:
        if self.device == 'cuda':
            torch.cuda.synchronize()
        start = time.perf_counter()
        # fp16 on a GPU; bf16 on CPU (what tools/train.py --amp uses there)
        dtype = torch.float16 if self.device == 'cuda' else torch.bfloat16
        with torch.autocast(device_type=self.device, dtype=dtype, enabled=self.amp):
            losses = self.model.loss(self.imgs, self.samples)
            loss = sum(v for k, v in losses.items() if 'loss' in k)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        if self.device == 'cuda':
            torch.cuda.synchronize()
        return time.perf_counter() - start


def measure_steps(options):
    """Plain and PixPro steps interleaved: ``(name, medians, channels_last)``
    per config of :data:`~.models.STEP_CONFIGS`.

    ``compare_channels_last`` / ``compare_amp`` add PixPro with the same
    weights in the other memory format / precision to the interleaving
    (``medians`` keys ``'other format'`` / ``'other precision'``).
    """
    rows = []
    for name, configs in STEP_CONFIGS.items():
        path = config_in(REPO, configs)
        models = dict(
            plain=step_model(path, options.depth, options.channels_last),
            pixpro=step_model(path, options.depth, options.channels_last),
        )
        models['plain'].head = PooledCosineHead()
        fmt = models['pixpro'].channels_last
        amp = {key: options.amp for key in models}
        variants = {}  # PixPro with the same weights, one setting switched
        if options.compare_channels_last:
            variants['other format'] = (not fmt, options.amp)
        if options.compare_amp:
            variants['other precision'] = (fmt, not options.amp)
        for key, (channels_last, use_amp) in variants.items():
            models[key] = step_model(path, options.depth, channels_last)
            models[key].load_state_dict(models['pixpro'].state_dict())
            amp[key] = use_amp
        steppers = {
            key: Stepper(m, options.batch, options.size, options.device, amp[key])
            for key, m in models.items()
        }
        times = {key: [] for key in steppers}
        for i in range(options.steps + 2):  # two warm-up steps each
            for key, stepper in steppers.items():
                elapsed = stepper()
                if i >= 2:
                    times[key].append(elapsed)
        medians = {key: statistics.median(t) for key, t in times.items()}
        rows.append((name, medians, fmt))
        del models, steppers
    return rows


def switch_row(name, t_pixpro, t_other, pixpro_on, labels, keys):
    """Table row and report entry: PixPro with one setting off against on."""
    t_off, t_on = (t_other, t_pixpro) if pixpro_on else (t_pixpro, t_other)
    off_label, on_label, winner = labels
    line = (
        f'| PixPro step, {name}: {off_label} vs {on_label} (s) | {t_off:.3f} | '
        f'{t_on:.3f} | {t_on / t_off:.3f} | < 1: {winner} faster |'
    )
    off_key, on_key = keys
    return line, {off_key: t_off, on_key: t_on, 'ratio': t_on / t_off}


def step_rows(options, log):
    """:func:`measure_steps` as table rows (each passed to ``log``) and
    report entries ``'step NAME'``, ``'channels_last NAME'``, ``'amp NAME'``."""
    lines, report = [], {}
    low = 'fp16' if options.device == 'cuda' else 'bf16'
    for name, medians, channels_last in measure_steps(options):
        t_plain, t_pixpro = medians['plain'], medians['pixpro']
        target = '<= 1.05' if name == 'C5' else '<= 1.15'
        ips = 2 * options.batch / t_pixpro
        lines.append(
            f'| step, {name} (s) | {t_plain:.3f} | {t_pixpro:.3f} ({ips:.1f} img/s) | '
            f'{t_pixpro / t_plain:.3f} | {target} |'
        )
        report[f'step {name}'] = dict(
            plain=t_plain, pixpro=t_pixpro, ratio=t_pixpro / t_plain
        )
        log(lines[-1])
        switched = [  # medians key, report key, PixPro has it on, labels, keys
            (
                'other format',
                'channels_last',
                channels_last,
                ('contiguous', 'channels_last', 'channels_last'),
                ('contiguous', 'channels_last'),
            ),
            (
                'other precision',
                'amp',
                options.amp,
                ('fp32', f'{low} autocast', low),
                ('fp32', 'amp'),
            ),
        ]
        for key, prefix, pixpro_on, labels, keys in switched:
            if key in medians:
                line, report[f'{prefix} {name}'] = switch_row(
                    name, t_pixpro, medians[key], pixpro_on, labels, keys
                )
                lines.append(line)
                log(line)
    return lines, report
