"""The instance-level branch (Eq. 6 of the paper)."""

from typing import Dict, Optional

from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpixpro.registry import MODELS


@MODELS.register_module()
class InstanceHead(BaseModule):
    r"""Instance loss on the C5 map of both views, both directions.

    Online: ``C5 -> projector -> [predictor] -> global average pool`` gives
    the query :math:`q`; target: the momentum copy of the projector (kept by
    the algorithm in ``target_net``) on the momentum C5, pooled, gives the key
    :math:`k`. Projector and predictor are dense (1x1 convolutions), the
    pooling comes after them, as in the authors' release. The loss is

    .. math::

        L_{inst} = \alpha \, (\ell(q_1, k_2) + \ell(q_2, k_1))

    with :math:`\ell` the configured loss:

    - SimCLR* of the paper (a SimCLR variant with the pixel branch's
      encoders, i.e. a momentum key encoder): ``InfoNCELoss``, no predictor;
    - BYOL-style: ``mmpretrain.CosineSimilarityLoss`` with
      ``shift_factor=0, scale_factor=2`` (:math:`-2\cos`, best -4 in all)
      and a predictor.

    Args:
        projector (dict): Dense projector on C5, e.g. ``DenseProjector``
            (2048 -> 4096 -> 256, the pixel projector's architecture).
        predictor (dict, optional): Dense predictor on the online side.
        loss (dict): ``loss(query, key)`` of one direction. Defaults to
            ``dict(type='InfoNCELoss', temperature=0.2)``.
        loss_weight (float): alpha of Eq. 6, >= 0. Defaults to 1.0.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(
        self,
        projector: dict,
        predictor: Optional[dict] = None,
        loss: dict = dict(type='InfoNCELoss', temperature=0.2),
        loss_weight: float = 1.0,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if not loss_weight >= 0:
            raise ValueError(f'loss_weight (alpha) must be >= 0, got {loss_weight}')
        self.loss_weight = loss_weight
        self.projector = MODELS.build(projector)
        self.predictor = MODELS.build(predictor) if predictor is not None else None
        self.loss_module = MODELS.build(loss)

    @staticmethod
    def pool(x: Tensor) -> Tensor:
        """Global average pooling ``[N, C, H, W] -> [N, C]``."""
        return x.mean(dim=(2, 3))

    def predict_online(self, c5: Tensor) -> Tensor:
        """Online C5 ``[N, C, H, W]`` -> query ``[N, D]``."""
        x = self.projector((c5,))[0]
        if self.predictor is not None:
            x = self.predictor((x,))[0]
        return self.pool(x)

    def keys(self, projector: nn.Module, c5: Tensor) -> Tensor:
        """Target keys ``[N, D]`` of the momentum ``projector`` on ``c5``."""
        return self.pool(projector((c5,))[0])

    def loss(
        self, c5_1: Tensor, c5_2: Tensor, key1: Tensor, key2: Tensor
    ) -> Dict[str, Tensor]:
        """Weighted instance loss.

        Args:
            c5_1, c5_2 (Tensor): Online C5 maps of the two views.
            key1, key2 (Tensor): Target keys ``[N, D]`` of the two views.
        """
        loss = self.loss_module(self.predict_online(c5_1), key2) + self.loss_module(
            self.predict_online(c5_2), key1
        )
        return dict(loss_instance=self.loss_weight * loss)
