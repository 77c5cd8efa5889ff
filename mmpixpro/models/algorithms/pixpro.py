"""PixPro: pixel-level consistency with a momentum target."""

import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.logging import MessageHub
from mmpretrain.models import BaseSelfSupervisor, CosineEMA
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmpixpro.registry import MODELS


@MODELS.register_module()
class PixPro(BaseSelfSupervisor):
    """PixPro: `Propagate Yourself <https://arxiv.org/abs/2011.10043>`_.

    Online branch: ``backbone -> [neck] -> projector``, then the head's pixel
    propagation module. Target branch: a momentum (EMA) copy of the same
    modules, without gradient, its BN layers in train mode (batch
    statistics). The target is updated once per iteration with

        tau_k = 1 - base_momentum * (cos(pi * k / K) + 1) / 2

    where ``k`` is the global iteration and ``K`` the total number of
    iterations (mmpretrain's :class:`CosineEMA`; its step counter is part of
    the state dict, so the schedule continues exactly after a resume).

    Args:
        backbone (dict): Backbone, e.g. ``mmpretrain.ResNet`` with
            ``out_indices=(3,)`` for C5.
        projector (dict): Dense projector applied to every output level.
        head (dict): Pixel head (pair rule, PPM, loss).
        neck (dict, optional): A neck between backbone and projector (e.g.
            ``mmdet.FPN``). Defaults to None.
        base_momentum (float): ``1 - tau_0``. Defaults to 0.01 (tau starts
            at 0.99 and ends at 1).
        pretrained (str, optional): Path of pre-trained weights.
        data_preprocessor (dict, optional): Defaults to mmpretrain's
            ``SelfSupDataPreprocessor``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(
        self,
        backbone: dict,
        projector: dict,
        head: dict,
        neck: Optional[dict] = None,
        base_momentum: float = 0.01,
        pretrained: Optional[str] = None,
        data_preprocessor: Optional[dict] = None,
        init_cfg: Optional[dict] = None,
    ) -> None:
        if not 0 <= base_momentum <= 1:
            raise ValueError(f'base_momentum must be in [0, 1], got {base_momentum}')
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
        )
        self.projector = MODELS.build(projector)
        self.base_momentum = base_momentum
        self.target_net = CosineEMA(self.online_net(), momentum=base_momentum)

    def online_net(self) -> nn.ModuleDict:
        """The online modules that have a momentum copy, by name.

        The target keeps the same names under ``target_net.module``.
        """
        modules = dict(backbone=self.backbone)
        if self.with_neck:
            modules['neck'] = self.neck
        modules['projector'] = self.projector
        return nn.ModuleDict(modules)

    @staticmethod
    def encode(net: nn.ModuleDict, img: Tensor) -> Tuple[Tensor, ...]:
        """Dense projected features of ``img``, one map per output level."""
        feats = net['backbone'](img)
        if 'neck' in net:
            feats = net['neck'](feats)
        if isinstance(feats, Tensor):
            feats = (feats,)
        return tuple(net['projector'](tuple(feats)))

    def momentum_tau(self) -> float:
        """``tau`` used by the target update of the current iteration."""
        steps = int(self.target_net.steps)
        max_iters = MessageHub.get_current_instance().get_info('max_iters')
        if not max_iters:
            return 1.0 - self.base_momentum
        return (
            1.0 - self.base_momentum * (math.cos(math.pi * steps / max_iters) + 1) / 2
        )

    def loss(
        self, inputs: List[Tensor], data_samples: List[DataSample], **kwargs
    ) -> Dict[str, Tensor]:
        """Loss of a batch of two views.

        Args:
            inputs (list[Tensor]): The two views, ``[N, 3, H, W]`` each.
            data_samples (list[DataSample]): One per image, each with a
                ``coords`` tensor ``[2, 4]`` holding the views' crop boxes.

        Returns:
            dict[str, Tensor]: The loss terms and logged statistics.
        """
        if len(inputs) != 2:
            raise ValueError(f'PixPro needs 2 views, got {len(inputs)}')
        coords = self.gather_coords(data_samples, inputs[0].device)  # [N,2,4]
        online = self.online_net()
        online1 = self.encode(online, inputs[0])
        online2 = self.encode(online, inputs[1])

        with torch.no_grad():
            # Read tau before the update: the update advances the step.
            tau = self.momentum_tau()
            self.target_net.update_parameters(online)
            target1 = self.encode(self.target_net.module, inputs[0])
            target2 = self.encode(self.target_net.module, inputs[1])

        losses = self.head.loss(
            online1, online2, target1, target2, coords[:, 0], coords[:, 1]
        )
        losses['momentum_tau'] = torch.tensor(tau, device=coords.device)
        return losses

    @staticmethod
    def gather_coords(
        data_samples: Sequence[DataSample], device: torch.device
    ) -> Tensor:
        """Stack the per-image view boxes into ``[N, V, 4]``."""
        if data_samples is None or any('coords' not in ds for ds in data_samples):
            raise KeyError(
                "PixPro needs each data sample's 'coords' (the views' crop "
                'boxes); build views with MultiViewWithCoord and pack them '
                'with PackPixProInputs'
            )
        return torch.stack([ds.coords for ds in data_samples]).to(
            device=device, dtype=torch.float32
        )
