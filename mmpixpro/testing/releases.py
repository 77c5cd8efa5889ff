"""ImageNet-supervised checkpoints in their release layouts, built from the
libraries' own models (random weights, nothing downloaded): the supervised
baseline of the Swin / ConvNeXt benchmarks in tests.

- :func:`swin_release`: the Swin Transformer release layout
  (github.com/microsoft/Swin-Transformer, ``{'model': ...}``), which mmdet's
  Swin configs load with ``convert_weights=True``; written from an mmdet
  ``SwinTransformer`` by inverting mmdet's ``swin_converter``.
- :func:`mmpretrain_classifier`: an mmpretrain ``ImageClassifier``
  checkpoint (``backbone.*``, ``head.fc.*``), the format mmdet's and mmseg's
  ConvNeXt configs load with ``prefix='backbone.'``.
"""

from collections import OrderedDict
from typing import Dict

import torch
from torch import Tensor, nn

#: The order in which mmdet's ``swin_converter`` permutes the four pixels of
#: a patch-merging window (a permutation that is its own inverse).
UNFOLD_ORDER = [0, 2, 1, 3]


def _release_reduction(x: Tensor) -> Tensor:
    """Inverse of mmdet's ``correct_unfold_reduction_order``."""
    out_channel, in_channel = x.shape
    x = x.reshape(out_channel, in_channel // 4, 4).transpose(1, 2)
    return x[:, UNFOLD_ORDER, :].reshape(out_channel, in_channel)


def _release_norm(x: Tensor) -> Tensor:
    """Inverse of mmdet's ``correct_unfold_norm_order``."""
    in_channel = x.shape[0]
    x = x.reshape(in_channel // 4, 4).transpose(0, 1)
    return x[UNFOLD_ORDER, :].reshape(in_channel)


def swin_release(backbone: nn.Module, num_classes: int = 1000) -> Dict[str, Tensor]:
    """The tensors of an mmdet / mmseg ``SwinTransformer`` named and laid out
    as the Swin Transformer release (``layers.{i}.blocks.{j}.attn.qkv``,
    ``mlp.fc1``, ``patch_embed.proj``, ...), with the classifier's one final
    ``norm`` (from the last stage's output norm) and a ``head``: what
    ``swin_converter`` turns back into the backbone's names."""
    state = backbone.state_dict()
    last = len(backbone.stages) - 1
    out: Dict[str, Tensor] = OrderedDict()
    for key, value in state.items():
        if key.startswith('norm'):
            if key.startswith(f'norm{last}.'):
                out[key.replace(f'norm{last}.', 'norm.')] = value.clone()
            continue
        new = key.replace('patch_embed.projection.', 'patch_embed.proj.')
        if key.startswith('stages.'):
            new = new.replace('stages.', 'layers.', 1)
            new = new.replace('attn.w_msa.', 'attn.')
            new = new.replace('ffn.layers.0.0.', 'mlp.fc1.')
            new = new.replace('ffn.layers.1.', 'mlp.fc2.')
            if '.downsample.reduction.' in key:
                value = _release_reduction(value)
            elif '.downsample.norm.' in key:
                value = _release_norm(value)
        out[new] = value.clone()
    width = state[f'norm{last}.weight'].shape[0]
    out['head.weight'] = torch.randn(num_classes, width) * 0.01
    out['head.bias'] = torch.zeros(num_classes)
    return out


def mmpretrain_classifier(backbone: dict, num_classes: int = 1000) -> dict:
    """A checkpoint of mmpretrain's ``ImageClassifier`` with ``backbone``
    (an mmpretrain backbone config in its classification form, e.g.
    ``ConvNeXt`` with its default ``out_indices`` and pooling), a global
    pooling neck where the backbone does not pool, and a linear head:
    ``{'state_dict': ..., 'meta': ...}``."""
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS

    with DefaultScope.overwrite_default_scope('mmpretrain'):
        probe = MODELS.build(backbone)
        width = probe(torch.zeros(1, 3, 32, 32))[-1].shape[1]
        classifier = MODELS.build(
            dict(
                type='ImageClassifier',
                backbone=backbone,
                head=dict(
                    type='LinearClsHead', num_classes=num_classes, in_channels=width
                ),
            )
        )
    classifier.init_weights()
    return dict(state_dict=classifier.state_dict(), meta=dict(dataset_meta=None))
