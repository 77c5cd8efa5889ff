"""timm's Swin Transformer state dict (timm >= 0.9), in mmdet's
``SwinTransformer`` names.

Read from timm ``models/swin_transformer.py`` (``SwinTransformer``:
``patch_embed.proj`` / ``.norm``; ``layers.N`` with ``downsample``
(``PatchMerging``: ``norm``, ``reduction``) at the start of stages 1-3 and
``blocks.M`` = ``norm1``, ``attn.qkv``, ``attn.proj``,
``attn.relative_position_bias_table``, ``norm2``, ``mlp.fc1``, ``mlp.fc2``;
the final ``norm``, applied to the last stage only, and ``head.fc``; its
``checkpoint_filter_fn`` moves the release's ``layers.N.downsample`` to
``layers.N+1``). A ``features_only`` model names the stages ``layers_N``.
timm's patch merging concatenates the four pixels of a window in the
release's order (``reshape(B, H/2, 2, W/2, 2, C).permute(0, 1, 3, 4, 2, 5)``:
(0, 0), (1, 0), (0, 1), (1, 1), the release's ``x0``-``x3``), so the file is
renamed to the release's names (``layers.N.downsample`` ->
``layers.N-1.downsample``) and converted by mmdet's ``swin_converter`` as
the release is (:class:`~.swin_release.SwinReleaseLayout`).

timm's weights are the release's: the same backbone loads from either.
timm's final norm is not loaded, as mmdet leaves the release's; the four
output norms of a dense backbone (``backbone.norm0`` - ``norm3``) start
fresh. timm >= 0.9.6 does not save the windows' relative position indices
(computed, not learnt), so the model's own are kept (``fresh``); timm 0.9.0 to
0.9.5 save them and they load as the release's do. Files of timm < 0.9
keep the release's names (:data:`~.swin_release.SWIN_STATE_DICT`).
"""

from .layout import OUTPUT_NORMS
from .swin_release import SWIN_KEYS, SWIN_RENAMES, SwinReleaseLayout


def _stage_before(match) -> str:
    return f'layers.{int(match.group(1)) - 1}.downsample.'


TIMM_SWIN = SwinReleaseLayout(
    name='timm Swin Transformer state dict',
    source='timm models/swin_transformer.py (SwinTransformer, PatchMerging, '
    'checkpoint_filter_fn); mmdet models/backbones/swin.py (swin_converter)',
    container=None,
    to_release=(
        (r'^layers_(\d+)\.', r'layers.\1.'),
        (r'^layers\.(\d+)\.downsample\.', _stage_before),
    ),
    rename=SWIN_RENAMES,
    keep=SWIN_KEYS,
    requires=('layers',),
    # patch merging at the end of stage 0: the release's names
    excludes=('layers.0.downsample.', 'layers_0.downsample.'),
    parts=(
        ('head.', 'the classifier'),
        ('norm.', "the classifier's final norm"),
        ('layers', 'attention masks of shifted windows, computed by the model'),
    ),
    fresh=(OUTPUT_NORMS, r'\.attn\.w_msa\.relative_position_index$'),
)
