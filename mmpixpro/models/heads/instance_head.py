"""The instance-level branch (Eq. 6 of the paper)."""

from typing import Dict, Optional

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmpixpro.registry import MODELS


def gather_keys(keys: Tensor) -> Tensor:
    """All keys of all processes (no gradient), or ``keys`` when single."""
    if (
        not (dist.is_available() and dist.is_initialized())
        or dist.get_world_size() == 1
    ):
        return keys
    gathered = [torch.empty_like(keys) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, keys.contiguous())
    return torch.cat(gathered)


@MODELS.register_module()
class InstanceHead(BaseModule):
    r"""Instance loss on globally pooled C5 features, both directions.

    Online: ``pool(C5) -> projector -> predictor``; target: the momentum copy
    of the projector (kept by the algorithm in ``target_net``).

    - ``loss_type='byol'``: :math:`-2 \cos(q_1, k_2) - 2 \cos(q_2, k_1)`,
      batch mean (best -4).
    - ``loss_type='simclr'`` (SimCLR* of the paper, a contrastive loss with
      the momentum encoder): InfoNCE of each online prediction against the
      target projections of all images of the (global) batch,
      :math:`-\log \frac{e^{q \cdot k^+ / \tau}}{\sum_k e^{q \cdot k / \tau}}`,
      both directions added.

    The algorithm weights this loss by ``loss_weight`` (alpha in Eq. 6).

    Args:
        projector (dict): Pooled projector, e.g. mmpretrain ``NonLinearNeck``
            with ``with_avg_pool=True``.
        predictor (dict): Online predictor (``NonLinearNeck``, no pooling).
        loss_type (str): 'byol' or 'simclr'. Defaults to 'byol'.
        temperature (float): tau of 'simclr'. Defaults to 0.2.
        loss_weight (float): alpha, >= 0. Defaults to 1.0.
    """

    def __init__(
        self,
        projector: dict,
        predictor: dict,
        loss_type: str = 'byol',
        temperature: float = 0.2,
        loss_weight: float = 1.0,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if loss_type not in ('byol', 'simclr'):
            raise ValueError(f"loss_type must be 'byol' or 'simclr', got {loss_type!r}")
        if not loss_weight >= 0:
            raise ValueError(f'loss_weight (alpha) must be >= 0, got {loss_weight}')
        if not temperature > 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.loss_type = loss_type
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.projector = MODELS.build(projector)
        self.predictor = MODELS.build(predictor)

    def predict_online(self, c5: Tensor) -> Tensor:
        """``[N, C, H, W]`` C5 -> online prediction ``[N, D]``."""
        return self.predictor(self.projector((c5,)))[0]

    def one_way(self, query: Tensor, key: Tensor) -> Tensor:
        query = F.normalize(query, dim=1)
        key = F.normalize(key, dim=1)
        if self.loss_type == 'byol':
            return -2 * (query * key).sum(dim=1).mean()
        keys = gather_keys(key)  # [N_total, D]
        rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
        labels = torch.arange(query.size(0), device=query.device) + rank * query.size(0)
        return F.cross_entropy(query @ keys.t() / self.temperature, labels)

    def loss(
        self, c5_1: Tensor, c5_2: Tensor, target1: Tensor, target2: Tensor
    ) -> Dict[str, Tensor]:
        """Weighted instance loss.

        Args:
            c5_1, c5_2 (Tensor): Online C5 maps of the two views.
            target1, target2 (Tensor): Target projections ``[N, D]``.
        """
        loss = self.one_way(self.predict_online(c5_1), target2) + self.one_way(
            self.predict_online(c5_2), target1
        )
        return dict(loss_instance=self.loss_weight * loss)
