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
"""

from collections import OrderedDict
from dataclasses import dataclass
from typing import Mapping

from .layout import OUTPUT_NORMS, Layout, Recognised, _as_tensor


@dataclass(frozen=True)
class SwinReleaseLayout(Layout):
    """A :class:`Layout` whose tensors are converted by mmdet's
    ``swin_converter`` (a value change the renames cannot say)."""

    def convert(self, ckpt: Mapping) -> Recognised:
        from mmdet.models.backbones.swin import swin_converter

        recognised = super().convert(ckpt)
        converted = swin_converter(self.tensors(ckpt))
        recognised.state = OrderedDict(
            (key, _as_tensor(converted[key])) for key in recognised.state
        )
        return recognised


SWIN_RELEASE = SwinReleaseLayout(
    name='Swin Transformer release (converted as mmdet convert_weights=True)',
    source='microsoft/Swin-Transformer models/swin_transformer.py; mmdet '
    'models/backbones/swin.py (swin_converter)',
    container='model',
    rename=(
        (r'^layers\.', 'stages.'),
        (r'\.attn\.', '.attn.w_msa.'),
        (r'\.mlp\.fc1\.', '.ffn.layers.0.0.'),
        (r'\.mlp\.fc2\.', '.ffn.layers.1.'),
        (r'^patch_embed\.proj\.', 'patch_embed.projection.'),
    ),
    keep=r'^(patch_embed\.|stages\.\d+\.(downsample|blocks\.\d+\.(norm1|norm2|attn|ffn))\.)',
    requires=('layers.0.blocks.0.attn.qkv.',),
    parts=(
        ('head.', 'the classifier'),
        ('norm.', "the classifier's final norm"),
        ('layers.', 'attention masks of shifted windows, computed by the model'),
    ),
    fresh=(OUTPUT_NORMS,),
)
