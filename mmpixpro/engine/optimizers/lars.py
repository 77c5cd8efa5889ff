"""LARS as PixPro and BYOL define it."""

from typing import Callable, List, Optional

import torch
from mmpretrain.engine.optimizers import LARS
from torch import Tensor

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
    clipping of the trust ratio. Each stage is one ``torch._foreach_*`` call
    over the parameters of a group: per tensor the operations of a loop, so
    the same numbers (tested against the loop).

    Args: those of ``mmpretrain.LARS`` (``lr``, ``momentum``,
        ``weight_decay``, ``eta`` (trust coefficient, 0.001), ``dampening``,
        ``nesterov``; ``eps`` is unused).
    """

    # Eager under torch.compile: a traced step would specialise on the lr
    # that the schedulers change every iteration, and recompile each time.
    @torch.compiler.disable
    @torch.no_grad()
    def step(self, closure: Optional[Callable] = None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group['params'] if p.grad is not None]
            if params:
                self._group_step(group, params)
        return loss

    def _group_step(self, group: dict, params: List[Tensor]) -> None:
        """One update of the parameters of a group that have a gradient,
        each stage one ``torch._foreach_*`` call over all of them."""
        updates = [p.grad for p in params]
        if not group.get('lars_exclude', False):
            adapted = [i for i, p in enumerate(params) if p.ndim > 1]
            if adapted:
                for i, u in zip(adapted, self._trust_scaled(group, params, adapted)):
                    updates[i] = u
        momentum = group['momentum']
        if momentum != 0:
            bufs = []
            old_bufs, old_updates = [], []
            for p, u in zip(params, updates):
                state = self.state[p]
                if 'momentum_buffer' not in state:
                    state['momentum_buffer'] = u.clone()
                else:
                    old_bufs.append(state['momentum_buffer'])
                    old_updates.append(u)
                bufs.append(state['momentum_buffer'])
            if old_bufs:
                torch._foreach_mul_(old_bufs, momentum)
                torch._foreach_add_(old_bufs, old_updates, alpha=1 - group['dampening'])
            if group['nesterov']:
                updates = torch._foreach_add(updates, bufs, alpha=momentum)
            else:
                updates = bufs
        torch._foreach_add_(params, updates, alpha=-group['lr'])

    @staticmethod
    def _trust_scaled(group: dict, params: List[Tensor], adapted: List[int]):
        """``eta ||w|| / ||g + lambda w|| (g + lambda w)`` for the adapted
        parameters (ratio 1 where either norm is 0)."""
        weights = [params[i] for i in adapted]
        updates = torch._foreach_add(
            [params[i].grad for i in adapted], weights, alpha=group['weight_decay']
        )
        w_norm = torch.stack(torch._foreach_norm(weights))  # [P]
        u_norm = torch.stack(torch._foreach_norm(updates))  # [P]
        trust = torch.where(
            (w_norm > 0) & (u_norm > 0),
            group['eta'] * w_norm / u_norm,
            torch.ones_like(w_norm),
        )
        torch._foreach_mul_(updates, list(trust.unbind()))
        return updates
