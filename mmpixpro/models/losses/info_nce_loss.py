"""InfoNCE of queries against momentum keys gathered from every process."""

import torch
import torch.nn.functional as F
from mmengine.dist import all_gather, get_rank
from torch import Tensor, nn

from mmpixpro.registry import MODELS


@MODELS.register_module()
class InfoNCELoss(nn.Module):
    r"""Contrastive loss of each query against the keys of the whole batch.

    For the normalised query :math:`q_n` of image ``n`` and the normalised
    keys :math:`k_m` of all ``M`` images of the global batch (gathered from
    every process, without gradient):

    .. math::

        L = \frac{1}{N} \sum_n -\log
            \frac{e^{q_n \cdot k_n / \tau}}{\sum_{m=1}^{M} e^{q_n \cdot k_m / \tau}}

    the key of the same image (other view) being the positive and the keys of
    all other images the negatives. The logits are computed in fp32.

    Args:
        temperature (float): ``tau``. Defaults to 0.2.
    """

    def __init__(self, temperature: float = 0.2) -> None:
        super().__init__()
        if not temperature > 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature

    def forward(self, query: Tensor, key: Tensor) -> Tensor:
        """``query`` ``[N, D]`` (with gradient), ``key`` ``[N, D]``."""
        query = F.normalize(query.float(), dim=1)
        key = F.normalize(key.detach().float(), dim=1)
        keys = torch.cat(all_gather(key))  # [M, D], this process's at rank * N
        labels = torch.arange(query.size(0), device=query.device)
        labels = labels + get_rank() * query.size(0)
        return F.cross_entropy(query @ keys.t() / self.temperature, labels)
