"""FLOPs of PixPro's online pass beside its backbone alone (mmengine.analysis).

The online pass of one view is what a training step runs with gradient:
backbone -> [neck -> bbox_head] -> projector -> PPM on every selected level,
and the instance branch's projector and predictor when the config has one.
The target (momentum) pass, the pair rule and the loss are not part of it.
Counting is mmengine's ``FlopAnalyzer`` (fvcore's rules): one fused
multiply-add is one FLOP; convolutions, matrix products and norms are
counted, element-wise operations (ReLU, the PPM's clamp / power, the
normalisations) are not and are listed as uncounted. Fused attention
(``aten::scaled_dot_product_attention``, which mmpretrain's ViT calls and the
analyzer has no rule for) is counted as its two products: with query
``(..., N, d)``, key ``(..., M, d)`` and value ``(..., M, e)``, ``N M d`` for
``Q K^T`` and ``N M e`` for the weights times ``V``, per batch and head; its
softmax, like every element-wise step, is not.
"""

import copy
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Sequence, Tuple

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import get_shape
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import DefaultScope
from torch import Tensor, nn

from mmpixpro.registry import MODELS

PARTS = ('backbone', 'neck', 'bbox_head', 'projector', 'head', 'instance_head')
LABELS = dict(neck='neck (FPN)', bbox_head='bbox_head (towers)', head='head (PPM)')


class OnlinePass(nn.Module):
    """PixPro's online branch on one batch of views (see module docstring)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, img: Tensor) -> Tuple[Tensor, ...]:
        model = self.model
        c5, dense = model.encode(model.online_net(), img)
        outs = [model.head.propagate(x) for x in dense] if model.with_head else []
        if model.instance_head is not None:
            outs.append(model.instance_head.predict_online(c5))
        return tuple(outs) if outs else (c5,)


@dataclass
class FlopReport:
    """FLOPs per view; a training step runs two views per image.

    Attributes:
        input_shape (tuple): ``(H, W)`` of one view.
        backbone (int): FLOPs of the config's backbone alone.
        online (int): FLOPs of the whole online pass.
        parts (dict): FLOPs of the online pass per top-level module.
        params (dict): Parameters of the backbone and of the online modules.
        uncounted (dict): Operators the counter skipped, with their counts.
    """

    input_shape: Tuple[int, int]
    backbone: int
    online: int
    parts: Dict[str, int]
    params: Dict[str, int]
    uncounted: Dict[str, int] = field(default_factory=dict)

    @property
    def extra(self) -> float:
        """Relative cost of PixPro's parts over the backbone alone."""
        return self.online / self.backbone - 1


def build_for_counting(cfg: Config) -> nn.Module:
    """The config's model with BN instead of SyncBN, in eval mode (batch 1).

    ``channels_last`` is turned off: the memory format changes no count, and
    its contiguous-checkpoint hook hands the tracer copies of the weights.
    """
    model_cfg = copy.deepcopy(cfg.model)
    if 'channels_last' in model_cfg:
        model_cfg.channels_last = False
    # In mmpixpro's scope even when another (a downstream Runner's) is current.
    with DefaultScope.overwrite_default_scope('mmpixpro'):
        model = revert_sync_batchnorm(MODELS.build(model_cfg))
    return model.eval()


def attention_flops(inputs: list, outputs: list) -> int:
    """``aten::scaled_dot_product_attention``: ``Q K^T`` and the weights times
    ``V`` (module docstring)."""
    query, key, value = (get_shape(v) for v in inputs[:3])
    *batch, n, d = query
    m, e = key[-2], value[-1]
    return math.prod(batch) * n * m * (d + e)


def count(module: nn.Module, inputs: tuple) -> FlopAnalyzer:
    analyzer = FlopAnalyzer(module, inputs)
    analyzer.set_op_handle('aten::scaled_dot_product_attention', attention_flops)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer


def pixpro_flops(cfg: Config, input_shape: Sequence[int] = (224, 224)) -> FlopReport:
    """Count the online pass and the backbone alone on one view.

    Args:
        cfg (Config): A PixPro pre-training config.
        input_shape (Sequence[int]): ``(H, W)`` of a view. Defaults to 224.
    """
    model = build_for_counting(cfg)
    img = torch.rand(1, 3, *input_shape)
    with torch.no_grad():
        online = count(OnlinePass(model), (img,))
        backbone = count(model.backbone, (img,))
        online_total, backbone_total = online.total(), backbone.total()
    by_module = online.by_module()
    parts = {p: by_module[f'model.{p}'] for p in PARTS if f'model.{p}' in by_module}
    parts = {p: n for p, n in parts.items() if n}
    params = parameter_count(model)
    online_params = sum(
        params[p] for p in PARTS if p in params and getattr(model, p) is not None
    )
    if 'head' in params and model.with_head and model.head.ppm is None:
        online_params -= params['head']  # a head without PPM has no online weights
    uncounted = Counter(online.unsupported_ops())
    return FlopReport(
        input_shape=tuple(input_shape),
        backbone=backbone_total,
        online=online_total,
        parts=parts,
        params=dict(backbone=params['backbone'], online=online_params),
        uncounted=dict(uncounted),
    )


def format_report(report: FlopReport, name: str = '') -> str:
    """The table that ``tools/analysis/get_flops.py`` prints."""
    h, w = report.input_shape
    giga = 1e9
    rows = [
        f'{name}',
        f'one view: 3x{h}x{w}; a training step runs the online pass on both views',
        f'{"":30s} {"GFLOPs/view":>12s} {"GFLOPs/image":>13s} {"params (M)":>11s}',
        f'{"backbone alone":30s} {report.backbone / giga:12.2f} '
        f'{2 * report.backbone / giga:13.2f} {report.params["backbone"] / 1e6:11.2f}',
        f'{"PixPro online pass":30s} {report.online / giga:12.2f} '
        f'{2 * report.online / giga:13.2f} {report.params["online"] / 1e6:11.2f}',
    ]
    rows += [
        f'  {LABELS.get(part, part):28s} {n / giga:12.3f}'
        for part, n in report.parts.items()
    ]
    rows.append(f'PixPro parts add {100 * report.extra:.1f} % to the backbone')
    rows.append(
        'counted by mmengine.analysis (one multiply-add = one FLOP); not counted: '
        + (', '.join(sorted(report.uncounted)) or 'nothing')
    )
    return '\n'.join(row for row in rows if row)
