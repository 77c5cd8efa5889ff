"""The Swin Transformer release: ``{'model': the classifier's state dict}``,
renamed as mmdet's Swin configs load it (``convert_weights=True``).

Read from microsoft/Swin-Transformer ``models/swin_transformer.py``
(``SwinTransformer``: ``patch_embed.proj`` / ``.norm``; ``layers.N.blocks.M``
with ``norm1``, ``attn.qkv``, ``attn.proj``,
``attn.relative_position_bias_table`` and its index, ``norm2``, ``mlp.fc1``,
``mlp.fc2``, and the ``attn_mask`` buffers of shifted blocks;
``layers.N.downsample`` (``norm``, ``reduction``) after stages 0-2; the
classifier's ``norm`` and ``head``) and mmdet ``models/backbones/swin.py``
(``SwinTransformer``; ``swin_converter``, which its ``init_weights`` applies
with ``convert_weights=True``). The names follow the renames below; the
values are ``swin_converter``'s own, which also reorders the patch-merging
weights to ``nn.Unfold``'s order. mmseg's ``SwinTransformer`` has the same
names. The release's final norm (after pooling) and head are not loaded; a
dense backbone's four output norms are not in the file and start fresh, as
they do when mmdet loads it.

The same tensors without the ``'model'`` entry (timm < 0.9 and the files
converted from the release keep these names) are :data:`SWIN_STATE_DICT`.
"""

import re
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Mapping, Optional, Tuple

from .layout import OUTPUT_NORMS, Layout, Recognised, _as_tensor

#: The names of mmdet's ``SwinTransformer`` that a Swin classifier holds.
SWIN_KEYS = (
    r'^(patch_embed\.|stages\.\d+\.(downsample|blocks\.\d+\.(norm1|norm2|attn|ffn))\.)'
)


@dataclass(frozen=True)
class SwinReleaseLayout(Layout):
    """A :class:`Layout` whose tensors are converted by mmdet's
    ``swin_converter`` (a value change the renames cannot say).

    ``to_release``: ``(regex, replacement)`` pairs taking the file's names
    (after ``backbone``) to the release's, the names ``swin_converter``
    takes; ``rename`` then gives the converter's names."""

    to_release: Tuple[Tuple[str, Any], ...] = ()

    def release_name(self, name: str) -> str:
        for pattern, replacement in self.to_release:
            name = re.sub(pattern, replacement, name)
        return name

    def backbone_name(self, key: str) -> Optional[str]:
        if not key.startswith(self.backbone):
            return None
        bare = self.release_name(key[len(self.backbone) :])
        return super().backbone_name(self.backbone + bare)

    def convert(self, ckpt: Mapping) -> Recognised:
        from mmdet.models.backbones.swin import swin_converter

        recognised = super().convert(ckpt)
        release = OrderedDict(
            (self.release_name(key[len(self.backbone) :]), value)
            for key, value in self.tensors(ckpt).items()
            if self.backbone_name(key) is not None
        )
        converted = swin_converter(release)  # its names: 'backbone.' + ours
        recognised.state = OrderedDict(
            (key, _as_tensor(converted[key])) for key in recognised.state
        )
        return recognised


#: The release's names -> mmdet's (``swin_converter``'s renames).
SWIN_RENAMES = (
    (r'^layers\.', 'stages.'),
    (r'\.attn\.', '.attn.w_msa.'),
    (r'\.mlp\.fc1\.', '.ffn.layers.0.0.'),
    (r'\.mlp\.fc2\.', '.ffn.layers.1.'),
    (r'^patch_embed\.proj\.', 'patch_embed.projection.'),
)

SWIN_RELEASE = SwinReleaseLayout(
    name='Swin Transformer release (converted as mmdet convert_weights=True)',
    source='microsoft/Swin-Transformer models/swin_transformer.py; mmdet '
    'models/backbones/swin.py (swin_converter)',
    container='model',
    rename=SWIN_RENAMES,
    keep=SWIN_KEYS,
    requires=('layers.0.blocks.0.attn.qkv.',),
    parts=(
        ('head.', 'the classifier'),
        ('norm.', "the classifier's final norm"),
        ('layers.', 'attention masks of shifted windows, computed by the model'),
    ),
    fresh=(OUTPUT_NORMS,),
)

SWIN_STATE_DICT = replace(
    SWIN_RELEASE,
    name='Swin Transformer state dict in the release names (timm < 0.9)',
    source='microsoft/Swin-Transformer models/swin_transformer.py; timm < 0.9 '
    'models/swin_transformer.py; mmdet models/backbones/swin.py (swin_converter)',
    container=None,
    # patch merging at the end of stage 0: not timm >= 0.9's names
    requires=('layers.0.blocks.0.attn.qkv.', 'layers.0.downsample.'),
)
