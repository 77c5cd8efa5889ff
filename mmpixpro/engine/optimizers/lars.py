"""LARS as PixPro and BYOL define it."""

from typing import Callable, Optional

import torch
from mmpretrain.engine.optimizers import LARS

from mmpixpro.registry import OPTIMIZERS


@OPTIMIZERS.register_module()
class PixProLARS(LARS):
    r"""LARS with the weight decay inside the trust ratio and 1-D exclusion.

    (mmpretrain's ``LARS`` bounds :math:`\|g + \lambda w\|` by
    :math:`\|g\| + \lambda\|w\|`, keeps the learning rate inside the momentum
    buffer and needs hand-written groups to exclude biases and norms.)

    For every parameter ``w`` with more than one dimension:

    .. math::

        u = g + \lambda w, \qquad
        u \leftarrow \eta \frac{\|w\|}{\|u\|} u \quad
        (\text{unless } \|w\| = 0 \text{ or } \|u\| = 0)

    Parameters with one dimension (biases, BN / GN affine) and the groups
    with ``lars_exclude=True`` get neither weight decay nor adaptation:
    ``u = g``. Then ``buf = momentum * buf + u`` and ``w -= lr * buf``. No
    clipping of the trust ratio.

    Args: those of ``mmpretrain.LARS`` (``lr``, ``momentum``,
        ``weight_decay``, ``eta`` (trust coefficient, 0.001), ``dampening``,
        ``nesterov``; ``eps`` is unused).
    """

    @torch.no_grad()
    def step(self, closure: Optional[Callable] = None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            weight_decay = group['weight_decay']
            momentum = group['momentum']
            dampening = group['dampening']
            eta = group['eta']
            exclude_group = group.get('lars_exclude', False)
            for p in group['params']:
                if p.grad is None:
                    continue
                update = p.grad
                if p.ndim > 1 and not exclude_group:
                    update = update.add(p, alpha=weight_decay)
                    w_norm = torch.linalg.vector_norm(p)
                    u_norm = torch.linalg.vector_norm(update)
                    trust = torch.where(
                        (w_norm > 0) & (u_norm > 0),
                        eta * w_norm / u_norm,
                        torch.ones_like(w_norm),
                    )
                    update = update.mul(trust)
                if momentum != 0:
                    state = self.state[p]
                    if 'momentum_buffer' not in state:
                        buf = state['momentum_buffer'] = update.clone()
                    else:
                        buf = state['momentum_buffer']
                        buf.mul_(momentum).add_(update, alpha=1 - dampening)
                    update = (
                        update.add(buf, alpha=momentum) if group['nesterov'] else buf
                    )
                p.add_(update, alpha=-group['lr'])
        return loss
