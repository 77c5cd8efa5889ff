"""Tell a checkpoint's ResNet depth from its tensors, and say which config
overrides fit another depth.

A ResNet of depth ``d`` has ``b_1 .. b_4`` blocks in its four stages, basic
blocks (two 3x3 convs, stage outputs ``64 * 2^(i-1)`` channels) up to
ResNet-34 and bottlenecks (1x1, 3x3, 1x1: ``256 * 2^(i-1)``) from ResNet-50;
``(b_1 .. b_4, bottleneck)`` names the depth. Fine-tuning a ResNet-18
checkpoint in a ResNet-50 config would otherwise stop on ~200 shape
mismatches without saying why.
"""

import re
from typing import Any, Dict, List, Mapping, Optional

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
