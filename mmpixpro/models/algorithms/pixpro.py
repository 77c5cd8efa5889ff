"""PixPro: pixel-level consistency with a momentum target."""

from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmcv.cnn.bricks import DropPath
from mmpretrain.models import BaseSelfSupervisor, VisionTransformer
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmpixpro.models.utils.ema import FusedCosineEMA
from mmpixpro.registry import MODELS


def contiguous_state(module, state_dict, prefix, local_metadata) -> None:
    """State-dict hook: tensors in the default (contiguous) layout.

    A ``channels_last`` model then writes checkpoints that look like any
    other (same values), so conversion scripts may ``view`` them.
    """
    for key, value in state_dict.items():
        if key.startswith(prefix) and isinstance(value, Tensor):
            state_dict[key] = value.contiguous()


def last_conv_channels(module: nn.Module) -> Optional[int]:
    """Output channels of the last ``Conv2d`` inside ``module``."""
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    return convs[-1].out_channels if convs else None


@MODELS.register_module()
class PixPro(BaseSelfSupervisor):
    """PixPro: `Propagate Yourself <https://arxiv.org/abs/2011.10043>`_.

    Online branch, per view::

        backbone -> [neck (e.g. mmdet FPN)] -> select out_levels
                 -> [bbox_head (FCOS towers)] -> projector -> head (PPM, loss)
        C5 (last backbone output) -> [instance_head]

    Target branch: a momentum (EMA) copy of backbone, neck, bbox_head,
    projector and the instance projector, without gradient, BN in train mode
    (batch statistics). Both branches run the backbone once per view; the
    pixel and instance losses share that pass. The target is updated once per
    iteration with

        tau_k = 1 - base_momentum * (cos(pi * k / K) + 1) / 2

    ``k`` the global iteration, ``K`` the total (mmpretrain's
    :class:`CosineEMA`; its step counter is in the state dict, so the schedule
    continues exactly after a resume; :class:`FusedCosineEMA` does its update
    as one fused call). Module names ``backbone``, ``neck``
    and ``bbox_head`` are those of an mmdet detector.

    Args:
        backbone (dict): e.g. ``mmpretrain.ResNet``; ``out_indices=(3,)`` for
            C5, ``(0, 1, 2, 3)`` under an FPN.
        projector (dict, optional): Dense projector applied to every output
            level. None (with ``head=None``): no pixel branch.
        head (dict, optional): Pixel head (pair rule, PPM, loss). None: an
            instance-only model (the paper's SimCLR* row of Table 4).
        neck (dict, optional): e.g. ``mmdet.FPN``.
        bbox_head (dict, optional): e.g. ``FCOSTowers``, after the neck.
        instance_head (dict, optional): ``InstanceHead`` on C5; its
            ``loss_weight`` is alpha of Eq. 6.
        out_levels (Sequence[str], optional): Levels that get the pixel loss,
            by name, ``n`` of a name the level's stride ``2**n``: ``'C2'``-
            ``'C5'`` without a neck (a ViT-B/16's map: ``'C4'``); ``'P3'``,
            ``'P4'``, ... for an FPN (names from its ``start_level`` and
            ``num_outs``) or a one-map neck (from its ``level_offsets``).
            None: every output.
        base_momentum (float): ``1 - tau_0``. Defaults to 0.01.
        channels_last (bool): Keep weights and input images in the
            ``channels_last`` memory format. Same results up to float
            rounding. Defaults to False; the pre-training configs set it
            (``.dev_scripts/speed.py --compare-channels-last``).
        target_drop_path (bool): Whether the target keeps the backbone's
            stochastic depth (mmcv ``DropPath``, as in Swin / ConvNeXt).
            False: the target encodes without it, as MoBY's target (drop
            path rate 0). Defaults to True (the online rates, copied).
        data_preprocessor (dict, optional): Defaults to
            ``PixProDataPreprocessor`` (mmpretrain's ``SelfSupDataPreprocessor``
            outside ``torch.compile``), the ``type`` when a dict names none.
        pretrained, init_cfg: see ``BaseSelfSupervisor``.
    """

    def __init__(
        self,
        backbone: dict,
        projector: Optional[dict] = None,
        head: Optional[dict] = None,
        neck: Optional[dict] = None,
        bbox_head: Optional[dict] = None,
        instance_head: Optional[dict] = None,
        out_levels: Optional[Sequence[str]] = None,
        base_momentum: float = 0.01,
        channels_last: bool = False,
        target_drop_path: bool = True,
        pretrained: Optional[str] = None,
        data_preprocessor: Optional[dict] = None,
        init_cfg: Optional[dict] = None,
    ) -> None:
        if not 0 <= base_momentum <= 1:
            raise ValueError(f'base_momentum must be in [0, 1], got {base_momentum}')
        if (head is None) != (projector is None):
            raise ValueError(
                'the pixel branch needs both `projector` and `head` (or neither, '
                'for an instance-only model)'
            )
        if head is None and instance_head is None:
            raise ValueError('PixPro needs a pixel `head`, an `instance_head` or both')
        if data_preprocessor is None or isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(
                dict(dict(type='PixProDataPreprocessor'), **(data_preprocessor or {}))
            )
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
        )
        self.bbox_head = MODELS.build(bbox_head) if bbox_head is not None else None
        self.projector = MODELS.build(projector) if projector is not None else None
        self.instance_head = (
            MODELS.build(instance_head) if instance_head is not None else None
        )
        self.level_names = self._output_level_names()
        self.out_indices = self._select_levels(out_levels)
        self._check_channels()
        self.base_momentum = base_momentum
        self.channels_last = channels_last
        if channels_last:
            self.to(memory_format=torch.channels_last)
            self._register_state_dict_hook(contiguous_state)
        self.target_net = FusedCosineEMA(self.online_net(), momentum=base_momentum)
        if not target_drop_path:
            for module in self.target_net.module.modules():
                if isinstance(module, DropPath):
                    module.drop_prob = 0.0

    # ----------------------------------------------------------- structure
    def _backbone_channels(self) -> Optional[List[int]]:
        """Channels of each backbone output, from its layers (ResNet-like) or
        its stage widths (``num_features`` of mmdet's Swin, ``channels`` of
        mmpretrain's ConvNeXt), or a ViT's width."""
        indices = getattr(self.backbone, 'out_indices', None)
        if indices is None:
            return None
        names = getattr(self.backbone, 'res_layers', None)
        if names is not None:
            return [
                last_conv_channels(getattr(self.backbone, names[i])) for i in indices
            ]
        for attr in ('num_features', 'channels'):
            widths = getattr(self.backbone, attr, None)
            if isinstance(widths, (list, tuple)):
                return [widths[i] for i in indices]
        if isinstance(self.backbone, VisionTransformer):
            return [self.backbone.embed_dims] * len(indices)
        return None

    def _backbone_levels(self) -> List[int]:
        """Level ``n`` (the stride is ``2**n``) of each backbone output.

        Stage ``i`` of a staged backbone (ResNet, Swin, ConvNeXt) is at
        stride ``2**(i + 2)``; every layer of a plain ViT (mmpretrain's
        ``VisionTransformer``) at its patch stride (16: C4).
        """
        indices = getattr(self.backbone, 'out_indices', None)
        if indices is None:
            raise ValueError('PixPro needs a backbone with `out_indices`')
        if not isinstance(self.backbone, VisionTransformer):
            return [i + 2 for i in indices]
        if len(indices) != 1:
            raise ValueError(
                'PixPro takes one output of a plain ViT (all its layers are at '
                f'the patch stride), got out_indices {list(indices)}'
            )
        stride = self.backbone.patch_embed.projection.stride[0]
        if stride & (stride - 1):
            raise ValueError(
                f'PixPro names levels by their stride 2**n; a patch stride of '
                f'{stride} has no such name'
            )
        return [stride.bit_length() - 1] * len(indices)

    def _output_level_names(self) -> List[str]:
        """Names of the dense outputs, before level selection: ``C<n>`` /
        ``P<n>`` for a map at stride ``2**n``."""
        c_levels = self._backbone_levels()
        if not self.with_neck:
            return [f'C{c}' for c in c_levels]
        offsets = getattr(self.neck, 'level_offsets', None)
        if offsets is not None:  # a one-map neck (SimpleFeaturePyramid)
            return [f'P{c_levels[-1] + k}' for k in offsets]
        start = getattr(self.neck, 'start_level', 0)
        num_outs = getattr(self.neck, 'num_outs', None)
        if num_outs is None or start >= len(c_levels):
            raise ValueError(
                'cannot name the outputs of neck '
                f'{type(self.neck).__name__}: it needs `start_level` and `num_outs`'
            )
        return [f'P{c_levels[start] + k}' for k in range(num_outs)]

    def _select_levels(self, out_levels: Optional[Sequence[str]]) -> List[int]:
        if out_levels is None:
            return list(range(len(self.level_names)))
        if isinstance(out_levels, str) or not out_levels:
            raise ValueError(
                'out_levels must be a non-empty sequence of level names, '
                f'got {out_levels!r}'
            )
        unknown = [lv for lv in out_levels if lv not in self.level_names]
        if unknown:
            raise ValueError(
                f'out_levels: unknown level(s) {unknown}; this model outputs '
                f'{self.level_names}'
            )
        return [self.level_names.index(lv) for lv in out_levels]

    def _check_channels(self) -> None:
        """Fail at build time when consecutive modules do not fit."""
        channels = self._backbone_channels()
        if channels is None:
            return
        c5 = channels[-1]
        dense = channels
        if self.with_neck:
            expected = getattr(self.neck, 'in_channels', channels)
            expected = list(expected) if isinstance(expected, Sequence) else [expected]
            if expected != channels:
                raise ValueError(
                    f'neck.in_channels {expected} do not match the backbone '
                    f'outputs {channels} (out_indices {self.backbone.out_indices})'
                )
            dense = [getattr(self.neck, 'out_channels', None)] * len(self.level_names)
        if self.bbox_head is not None:
            tower_in = getattr(self.bbox_head, 'in_channels', None)
            if tower_in is not None and dense[0] is not None and tower_in != dense[0]:
                raise ValueError(
                    f'bbox_head.in_channels {tower_in} does not match the neck '
                    f'output channels {dense[0]}'
                )
            dense = [getattr(self.bbox_head, 'out_channels', None)] * len(dense)
        proj_in = getattr(self.projector, 'in_channels', None)
        for idx in self.out_indices:
            if None not in (proj_in, dense[idx]) and proj_in != dense[idx]:
                raise ValueError(
                    f'projector.in_channels {proj_in} does not match the '
                    f'{dense[idx]} channels of level {self.level_names[idx]}'
                )
        if self.instance_head is not None:
            inst_in = getattr(self.instance_head.projector, 'in_channels', None)
            if inst_in is not None and inst_in != c5:
                raise ValueError(
                    f'instance_head.projector.in_channels {inst_in} '
                    f'does not match the {c5} channels of the last backbone output'
                )

    def online_net(self) -> nn.ModuleDict:
        """The online modules that have a momentum copy, by name.

        The target keeps the same names under ``target_net.module``.
        """
        modules = dict(backbone=self.backbone)
        if self.with_neck:
            modules['neck'] = self.neck
        if self.bbox_head is not None:
            modules['bbox_head'] = self.bbox_head
        if self.projector is not None:
            modules['projector'] = self.projector
        if self.instance_head is not None:
            modules['instance_projector'] = self.instance_head.projector
        return nn.ModuleDict(modules)

    # ------------------------------------------------------------- forward
    def encode(
        self, net: nn.ModuleDict, img: Tensor
    ) -> Tuple[Tensor, Tuple[Tensor, ...]]:
        """One backbone pass of ``img`` through ``net`` (online or target).

        Returns:
            tuple: the last backbone output (C5) and the projected dense
            features of the selected levels (empty without a pixel branch).
        """
        if self.channels_last:
            img = img.contiguous(memory_format=torch.channels_last)
        feats = net['backbone'](img)
        feats = (feats,) if isinstance(feats, Tensor) else tuple(feats)
        if 'projector' not in net:
            return feats[-1], ()
        dense = tuple(net['neck'](feats)) if 'neck' in net else feats
        dense = tuple(dense[i] for i in self.out_indices)
        if 'bbox_head' in net:
            dense = tuple(net['bbox_head'](dense))
        return feats[-1], tuple(net['projector'](dense))

    def momentum_tau(self) -> float:
        """``tau`` used by the target update of the current iteration:
        ``1 - m_k`` of :meth:`FusedCosineEMA.momentum_at`."""
        return 1.0 - self.target_net.momentum_at(int(self.target_net.steps))

    @torch.compiler.disable
    def update_target(self, online: nn.ModuleDict, device: torch.device) -> Tensor:
        """Momentum update of the target; returns the ``tau`` it used.

        Outside ``torch.compile``: ``tau`` depends on the step counter, which
        a compiled graph would otherwise specialise on.
        """
        # Read tau before the update: the update advances the step.
        tau = self.momentum_tau()
        self.target_net.update_parameters(online)
        return torch.tensor(tau, device=device)

    def loss(
        self, inputs: List[Tensor], data_samples: List[DataSample], **kwargs
    ) -> Dict[str, Tensor]:
        """Loss of a batch of two views.

        Args:
            inputs (list[Tensor]): The two views, ``[N, 3, H, W]`` each.
            data_samples (list[DataSample]): One per image, each with a
                ``coords`` tensor ``[2, 4]`` holding the views' crop boxes.

        Returns:
            dict[str, Tensor]: The loss terms (``loss_pixel``,
            ``loss_instance``; mmengine's ``parse_losses`` sums every
            ``loss*`` term into the ``loss`` it back-propagates and logs) and
            logged statistics.
        """
        if len(inputs) != 2:
            raise ValueError(f'PixPro needs 2 views, got {len(inputs)}')
        coords = self.gather_coords(data_samples, inputs[0].device)  # [N, 2, 4]
        online = self.online_net()
        c5_1, online1 = self.encode(online, inputs[0])
        c5_2, online2 = self.encode(online, inputs[1])

        with torch.no_grad():
            tau = self.update_target(online, coords.device)
            target = self.target_net.module
            t_c5_1, target1 = self.encode(target, inputs[0])
            t_c5_2, target2 = self.encode(target, inputs[1])

        losses = {}
        if self.with_head:
            losses = self.head.loss(
                online1, online2, target1, target2, coords[:, 0], coords[:, 1]
            )
        if self.instance_head is not None:
            with torch.no_grad():
                key1 = self.instance_head.keys(target['instance_projector'], t_c5_1)
                key2 = self.instance_head.keys(target['instance_projector'], t_c5_2)
            losses.update(self.instance_head.loss(c5_1, c5_2, key1, key2))
        losses['momentum_tau'] = tau
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
