"""The FPN head's loop over P3-P6 against one block-diagonal pass over all
levels (forward + backward of the pixel part): measured, not used for
training."""

import statistics
import time

import torch
import torch.nn.functional as F

from .models import STEP_CONFIGS, config_in
from .options import REPO


def block_diagonal_loss(head, online1, online2, target1, target2, c1, c2):
    """:meth:`PixelHead.loss` (PixPro loss, PPM with a 1x1 conv) with all
    levels in one pass: the pixels of every level side by side (``P`` in
    all), similarities and pairs in one ``[N, P, P]`` block-diagonal matrix
    (pairs and propagation only within a level), per-level sums by a one-hot
    ``[P, L]`` product. Measured against the head's loop over levels
    (:func:`measure_level_pass`); not used for training."""
    from mmpixpro.models import feature_cell_centres

    sizes = torch.tensor([o.shape[-2] * o.shape[-1] for o in online1])
    level = torch.repeat_interleave(torch.arange(len(sizes)), sizes)  # [P]
    same = level[:, None] == level[None, :]  # [P, P]
    onehot = F.one_hot(level, len(sizes)).float()  # [P, L]

    def side_by_side(levels):
        return torch.cat([x.flatten(2) for x in levels], dim=2)  # [N, C, P]

    def propagate(x):
        feat = F.normalize(x, dim=1)
        conv = head.ppm.transform
        value = F.normalize(F.conv1d(x, conv.weight.flatten(2), conv.bias), dim=1)
        sim = (feat.transpose(1, 2) @ feat).clamp(min=0).pow(head.ppm.gamma)
        return F.normalize(value @ (sim * same).transpose(1, 2), dim=1)

    def centres(coords):
        cells, diags = zip(
            *[feature_cell_centres(coords, o.shape[-2:]) for o in online1]
        )
        return torch.cat(cells, 1), torch.stack(diags, 1)  # [N, P, 2], [N, L]

    (cen1, d1), (cen2, d2) = centres(c1), centres(c2)
    max_diag = torch.maximum(d1, d2)[:, level]  # [N, P]
    dist = (cen1[:, :, None] - cen2[:, None]).pow(2).sum(-1).sqrt()
    mask = (dist / max_diag[:, :, None] < head.pos_threshold) & same  # [N, P, P]

    def direction(pred, target, pairs):
        cos = F.normalize(pred, dim=1).transpose(1, 2) @ F.normalize(target, dim=1)
        pairs = pairs.float()
        sums, counts = (cos * pairs).sum(2) @ onehot, pairs.sum(2) @ onehot  # [N, L]
        per_image = -2 * sums / (counts + head.loss_module.eps)
        valid = counts > 0
        kept = torch.where(valid, per_image, torch.zeros_like(per_image))
        return kept.sum(0) / valid.sum(0).clamp(min=1)  # [L]

    pred1 = propagate(side_by_side(online1))
    pred2 = propagate(side_by_side(online2))
    loss = direction(pred1, side_by_side(target2), mask) + direction(
        pred2, side_by_side(target1), mask.transpose(1, 2)
    )
    return loss.mean()


def measure_level_pass(options):
    """Forward + backward of the FPN head's pixel part at P3-P6 (batch,
    256 channels, maps of ``size`` / 8 ... / 64): the head's loop over
    levels against :func:`block_diagonal_loss`, interleaved."""
    from mmengine.config import Config

    from mmpixpro.registry import MODELS

    cfg = Config.fromfile(config_in(REPO, STEP_CONFIGS['FPN + head, P3-P6']))
    head = MODELS.build(cfg.model.head)
    gen = torch.Generator().manual_seed(0)
    shapes = [(options.size // s, options.size // s) for s in (8, 16, 32, 64)]
    feats = [
        [torch.randn(options.batch, 256, *hw, generator=gen) for hw in shapes]
        for _ in range(4)
    ]
    for level in feats[0] + feats[1]:  # online features: with gradient
        level.requires_grad_()
    xy = torch.rand(options.batch, 2, 2, generator=gen) * 0.4
    coords = torch.cat([xy, xy + 0.5], dim=-1)
    elements = options.batch * sum(h * w for h, w in shapes) ** 2

    def loop():
        out = head.loss(*feats, coords[:, 0], coords[:, 1])['loss']
        out.backward()
        return out.item()

    def batched():
        out = block_diagonal_loss(head, *feats, coords[:, 0], coords[:, 1])
        out.backward()
        return out.item()

    diff = abs(loop() - batched())
    times = {'loop': [], 'batched': []}
    for index in range(options.steps + 2):
        order = [('loop', loop), ('batched', batched)]
        for key, fn in order if index % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)
    loop_t = statistics.median(times['loop'][2:])
    batched_t = statistics.median(times['batched'][2:])
    return dict(
        loop=loop_t,
        batched=batched_t,
        ratio=batched_t / loop_t,
        loss_diff=diff,
        batched_elements=elements,
        head_max_elements=head.max_elements,
    )


def level_pass_rows(options, log):
    """:func:`measure_level_pass` as a table row (passed to ``log``) and the
    report entry ``'level pass'``."""
    row = measure_level_pass(options)
    line = (
        f'| FPN head P3-P6 fwd + bwd: loop vs one block-diagonal pass (s) | '
        f'{row["loop"]:.3f} | {row["batched"]:.3f} | {row["ratio"]:.3f} | '
        f'loss diff {row["loss_diff"]:.1e} |'
    )
    log(line)
    return [line], {'level pass': row}
