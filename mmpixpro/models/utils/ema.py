"""The momentum (EMA) target, updated by one fused call over all tensors."""

from math import cos, pi
from typing import List

import torch
from mmengine.logging import MessageHub
from mmpretrain.models import CosineEMA
from torch import Tensor, nn

from mmpixpro.registry import MODELS


@MODELS.register_module()
class FusedCosineEMA(CosineEMA):
    r"""mmpretrain's :class:`CosineEMA` with a fused (``torch._foreach_*``)
    update.

    (mmengine's update loops over the parameters in Python, one ``mul_`` and
    one ``add_`` per tensor, and copies each buffer separately.)

    Same schedule and state: at update ``k`` (``steps``, in the state dict,
    so a resume continues exactly) with ``K`` = ``max_iters`` from mmengine's
    ``MessageHub``,

    .. math::

        m_k = m_{end} - (m_{end} - m_0) \frac{\cos(\pi k / K) + 1}{2}, \qquad
        \bar\theta \leftarrow \bar\theta + m_k (\theta - \bar\theta)
        = (1 - m_k)\,\bar\theta + m_k\,\theta

    (PixPro's :math:`\tau_k = 1 - m_k`, :math:`m_0` = ``momentum`` = 0.01,
    :math:`m_{end} = 0`), as one ``torch._foreach_lerp_`` over all floating
    tensors: one pass reading both copies and writing the average, where
    ``mul_`` then ``add_`` take two (timings in docs/en/notes/performance.md).
    The result differs from ``mul_(1 - m).add_(src, alpha=m)`` by float
    rounding only (tested). The first update (``k = 0``) copies the online
    weights; buffers (BN statistics) are copied every update unless
    ``update_buffers``. The update runs outside ``torch.compile`` (it is one
    fused call already, and a traced graph would specialise on ``k``).

    Args: those of :class:`CosineEMA`.
    """

    def momentum_at(self, steps: Tensor) -> float:
        """``m_k`` exactly as :meth:`CosineEMA.avg_func` computes it.

        The one place the schedule is written: :class:`PixPro` logs
        ``tau_k = 1 - m_k`` from it. Before a Runner has set ``max_iters``
        (a model used outside training) it is ``m_0``, the first update's.
        """
        max_iters = MessageHub.get_current_instance().get_info('max_iters')
        if not max_iters:
            return self.momentum
        cosine = (cos(pi * steps / float(max_iters)) + 1) / 2
        return self.end_momentum - (self.end_momentum - self.momentum) * cosine

    def _pairs(self, model: nn.Module):
        """Averaged and source tensors, in the order of ``avg_parameters``."""
        src = (
            model.state_dict(keep_vars=True)
            if self.update_buffers
            else dict(model.named_parameters())
        )
        avg, source = [], []
        for name, p_avg in self.avg_parameters.items():
            avg.append(p_avg.detach())
            source.append(src[name].detach().to(p_avg.device))
        return avg, source

    @torch.compiler.disable
    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        """One momentum update of the averaged copy from ``model``."""
        avg, source = self._pairs(model)
        steps = int(self.steps)
        if steps == 0:
            torch._foreach_copy_(avg, source)
        elif steps % self.interval == 0:
            floating = [i for i, t in enumerate(avg) if t.dtype.is_floating_point]
            avg_f: List[Tensor] = [avg[i] for i in floating]
            src_f: List[Tensor] = [source[i] for i in floating]
            torch._foreach_lerp_(avg_f, src_f, self.momentum_at(self.steps))
        if not self.update_buffers:
            avg_b = [b.detach() for b in self.module.buffers()]
            src_b = [b.detach().to(a.device) for a, b in zip(avg_b, model.buffers())]
            if avg_b:
                torch._foreach_copy_(avg_b, src_b)
        self.steps += 1
