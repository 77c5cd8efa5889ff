"""Tell a checkpoint's backbone architecture from its tensors, and say which
config overrides fit another ResNet depth.

Four families are told apart by their tensor names under ``backbone.``
(mmdet / mmseg / mmpretrain names):

- ResNet (``layer{i}.{j}.conv{k}``): a ResNet of depth ``d`` has
  ``b_1 .. b_4`` blocks in its four stages, basic blocks (two 3x3 convs,
  stage outputs ``64 * 2^(i-1)`` channels) up to ResNet-34 and bottlenecks
  (1x1, 3x3, 1x1: ``256 * 2^(i-1)``) from ResNet-50; ``(b_1 .. b_4,
  bottleneck)`` names the depth.
- Swin Transformer (mmdet's / mmseg's ``SwinTransformer``,
  ``stages.{i}.blocks.{j}``): the embedding width ``C`` from the patch
  embedding (``[C, 3, p, p]``), the blocks per stage, and from each stage's
  relative position bias table ``[(2w - 1)^2, heads]`` its heads and the
  window ``w``.
- ConvNeXt (mmpretrain's, ``stages.{i}.{j}.depthwise_conv``): the blocks and
  channels per stage.
- plain ViT (mmpretrain's ``VisionTransformer``, ``layers.{j}.attn.qkv``):
  the width ``C`` and patch size from the patch embedding, the layers, the
  MLP width from the first MLP layer (the heads split ``qkv`` without a
  tensor of their own: not told).

Known sizes get the names of mmpretrain's arch tables (``Swin-T``,
``ConvNeXt-S``). Fine-tuning a checkpoint of another architecture would
otherwise stop on hundreds of missing tensors or shape mismatches without
saying why.
"""

import math
import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

# depth -> (blocks per stage, bottleneck?)
RESNET_ARCH = {
    18: ((2, 2, 2, 2), False),
    34: ((3, 4, 6, 3), False),
    50: ((3, 4, 6, 3), True),
    101: ((3, 4, 23, 3), True),
    152: ((3, 8, 36, 3), True),
}
# C2-C5 output channels
BASIC_WIDTHS = [64, 128, 256, 512]
BOTTLENECK_WIDTHS = [256, 512, 1024, 2048]
WIDTH_KEYS = ('in_channels', 'out_channels', 'feat_channels')


def resnet_depth(state: Mapping[str, Any], prefix: str = 'backbone.') -> Optional[int]:
    """The depth of the ResNet whose tensors are under ``prefix`` (mmdet /
    mmseg / mmpretrain / torchvision names: ``layer{i}.{j}.conv{k}``), or
    ``None`` when they are not one of ResNet-18/34/50/101/152."""
    pattern = re.compile(re.escape(prefix) + r'layer([1-4])\.(\d+)\.conv(\d)\.')
    blocks = [set(), set(), set(), set()]
    bottleneck = False
    for key in state:
        match = pattern.match(key)
        if match:
            blocks[int(match[1]) - 1].add(match[2])
            bottleneck |= match[3] == '3'
    arch = (tuple(len(b) for b in blocks), bottleneck)
    for depth, known in RESNET_ARCH.items():
        if arch == known:
            return depth
    return None


def _widths(depth: int) -> List[int]:
    return BOTTLENECK_WIDTHS if RESNET_ARCH[depth][1] else BASIC_WIDTHS


def depth_overrides(model_cfg: Mapping, old: int, new: int) -> List[str]:
    """``--cfg-options`` items that turn ``model_cfg`` (built for a ResNet-
    ``old``) into the same model on a ResNet-``new``.

    Every ``depth`` equal to ``old`` (the backbone, a C4 RoI head's res5)
    becomes ``new``. Between basic blocks and bottlenecks the widths fed by
    the backbone follow: an ``in_channels`` (``out_channels``,
    ``feat_channels``) list equal to the C2-C5 widths, and from a bottleneck
    ResNet the C4 / C5 widths 1024 / 2048 (4x fewer).
    """
    old_widths, new_widths = _widths(old), _widths(new)
    scalars = {}
    if old_widths != new_widths and old_widths == BOTTLENECK_WIDTHS:
        scalars = {1024: 256, 2048: 512}
    items: List[str] = []

    def visit(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                here = f'{path}.{key}'
                if key == 'depth' and value == old:
                    items.append(f'{here}={new}')
                elif key in WIDTH_KEYS and old_widths != new_widths:
                    if isinstance(value, (list, tuple)) and list(value) == old_widths:
                        items.append(f'{here}=[{",".join(map(str, new_widths))}]')
                    elif value in scalars and not isinstance(value, bool):
                        items.append(f'{here}={scalars[value]}')
                else:
                    visit(value, here)
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                visit(value, f'{path}.{i}')

    visit(model_cfg, 'model')
    backbone = 'model.backbone.depth'
    return sorted(items, key=lambda item: not item.startswith(backbone))


def depth_mismatch(
    checkpoint: str,
    state: Mapping[str, Any],
    model_depth: Optional[int],
    model_cfg: Dict,
) -> Optional[str]:
    """One line naming both depths and the overrides, when the checkpoint's
    ``backbone.*`` is a ResNet of another depth than the model's; else
    ``None``."""
    depth = resnet_depth(state)
    if depth is None or model_depth is None or depth == model_depth:
        return None
    options = ' '.join(depth_overrides(model_cfg, model_depth, depth))
    return (
        f'{checkpoint!r} does not fit the model: its backbone is a ResNet-{depth}, '
        f"the config's a ResNet-{model_depth}; fine-tune it with "
        f'--cfg-options {options}'
    )


# mmpretrain's arch names -> the short names of the papers' tables
SHORT_NAMES = {'tiny': 'T', 'small': 'S', 'base': 'B', 'large': 'L', 'xlarge': 'XL'}


def _stage_blocks(state: Mapping[str, Any], pattern: str) -> List[int]:
    """Blocks per stage: distinct ``j`` of ``pattern``'s groups ``(i, j)``."""
    blocks: Dict[int, set] = {}
    for key in state:
        match = re.match(pattern, key)
        if match:
            blocks.setdefault(int(match[1]), set()).add(match[2])
    return [len(blocks[i]) for i in sorted(blocks)]


def swin_arch(
    state: Mapping[str, Any], prefix: str = 'backbone.'
) -> Optional[Tuple[int, Tuple[int, ...], Tuple[int, ...], int]]:
    """``(embed_dims, depths, num_heads, window_size)`` of the Swin
    Transformer under ``prefix`` (mmdet / mmseg names), or ``None``."""
    p = re.escape(prefix)
    embed = state.get(f'{prefix}patch_embed.projection.weight')
    depths = _stage_blocks(state, p + r'stages\.(\d+)\.blocks\.(\d+)\.')
    if embed is None or not depths:
        return None
    heads, window = [], 0
    for i in range(len(depths)):
        table = state.get(
            f'{prefix}stages.{i}.blocks.0.attn.w_msa.relative_position_bias_table'
        )
        if table is None:
            return None
        heads.append(int(table.shape[1]))
        window = (math.isqrt(int(table.shape[0])) + 1) // 2
    return int(embed.shape[0]), tuple(depths), tuple(heads), window


def convnext_arch(
    state: Mapping[str, Any], prefix: str = 'backbone.'
) -> Optional[Tuple[Tuple[int, ...], Tuple[int, ...]]]:
    """``(depths, channels)`` of the ConvNeXt under ``prefix`` (mmpretrain
    names), or ``None``."""
    p = re.escape(prefix)
    depths = _stage_blocks(state, p + r'stages\.(\d+)\.(\d+)\.depthwise_conv\.weight')
    if not depths:
        return None
    channels = tuple(
        int(state[f'{prefix}stages.{i}.0.depthwise_conv.weight'].shape[0])
        for i in range(len(depths))
    )
    return tuple(depths), channels


def vit_arch(
    state: Mapping[str, Any], prefix: str = 'backbone.'
) -> Optional[Tuple[int, int, int, int]]:
    """``(embed_dims, num_layers, feedforward_channels, patch_size)`` of the
    plain ViT under ``prefix`` (mmpretrain names), or ``None``."""
    embed = state.get(f'{prefix}patch_embed.projection.weight')
    pattern = re.compile(re.escape(prefix) + r'layers\.(\d+)\.attn\.qkv\.weight$')
    layers = {match[1] for match in map(pattern.match, state) if match}
    mlp = state.get(f'{prefix}layers.0.ffn.layers.0.0.weight')
    if embed is None or not layers or mlp is None:
        return None
    return int(embed.shape[0]), len(layers), int(mlp.shape[0]), int(embed.shape[-1])


def _dashed(values) -> str:
    return '-'.join(map(str, values))


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _known(table: Mapping[str, Mapping], **arch) -> Optional[str]:
    """The short name of the entry of ``table`` (one of mmpretrain's arch
    tables) whose values equal ``arch``."""
    for name, entry in table.items():
        if name in SHORT_NAMES and all(
            _as_list(entry[key]) == _as_list(value) for key, value in arch.items()
        ):
            return SHORT_NAMES[name]
    return None


def backbone_name(state: Mapping[str, Any], prefix: str = 'backbone.') -> Optional[str]:
    """The architecture of the backbone under ``prefix``, in words:
    ``'ResNet-50'``, ``'Swin-T (window 7)'``, ``'ConvNeXt-S'``,
    ``'ViT-B/16'``, or the sizes of one of these families that has no name
    (``'Swin (embed 24, depths 1-1-2-1, heads 3-6-12-24, window 7)'``,
    ``'ViT (embed 192, 2 layers, MLP 768, patch 16)'``); ``None`` for
    anything else."""
    depth = resnet_depth(state, prefix)
    if depth is not None:
        return f'ResNet-{depth}'
    swin = swin_arch(state, prefix)
    if swin is not None:
        from mmpretrain.models.backbones import SwinTransformer

        embed, depths, heads, window = swin
        short = _known(
            SwinTransformer.arch_zoo,
            embed_dims=embed,
            depths=depths,
            num_heads=heads,
        )
        if short is not None:
            return f'Swin-{short} (window {window})'
        return (
            f'Swin (embed {embed}, depths {_dashed(depths)}, heads '
            f'{_dashed(heads)}, window {window})'
        )
    convnext = convnext_arch(state, prefix)
    if convnext is not None:
        from mmpretrain.models.backbones import ConvNeXt

        depths, channels = convnext
        short = _known(ConvNeXt.arch_settings, depths=depths, channels=channels)
        if short is not None:
            return f'ConvNeXt-{short}'
        return f'ConvNeXt (channels {_dashed(channels)}, depths {_dashed(depths)})'
    vit = vit_arch(state, prefix)
    if vit is not None:
        from mmpretrain.models.backbones import VisionTransformer

        embed, layers, mlp, patch = vit
        short = _known(
            VisionTransformer.arch_zoo,
            embed_dims=embed,
            num_layers=layers,
            feedforward_channels=mlp,
        )
        if short is not None:
            return f'ViT-{short}/{patch}'
        return f'ViT (embed {embed}, {layers} layers, MLP {mlp}, patch {patch})'
    return None


def arch_mismatch(
    checkpoint: str,
    state: Mapping[str, Any],
    model_state: Mapping[str, Any],
    model_cfg: Dict,
) -> Optional[str]:
    """One line naming both architectures when the checkpoint's
    ``backbone.*`` is another one than the model's (for two ResNets, the
    ``--cfg-options`` that fit the checkpoint's depth, see
    :func:`depth_mismatch`); ``None`` when they are the same or either is
    not one of the known families."""
    ours, theirs = backbone_name(state), backbone_name(model_state)
    if ours is None or theirs is None or ours == theirs:
        return None
    if ours.startswith('ResNet-') and theirs.startswith('ResNet-'):
        return depth_mismatch(checkpoint, state, resnet_depth(model_state), model_cfg)
    return (
        f'{checkpoint!r} does not fit the model: its backbone is a {ours}, '
        f"the config's a {theirs}"
    )
