"""timm's ConvNeXt state dict, in mmpretrain's ``ConvNeXt`` names.

Read from timm ``models/convnext.py`` (``ConvNeXt``: ``stem`` = conv, norm;
``stages.N`` with ``downsample`` = norm, conv (N >= 1) and ``blocks.M`` =
``conv_dw``, ``norm``, ``mlp.fc1`` / ``mlp.fc2`` (linear), ``gamma``;
``head.norm``, ``head.fc``) and mmpretrain ``models/backbones/convnext.py``
(``ConvNeXt``: ``downsample_layers.N`` = the stem (N = 0) or norm, conv;
``stages.N.M`` = ``depthwise_conv``, ``norm``, ``pointwise_conv1`` /
``pointwise_conv2``, ``gamma``; ``normN``, the norm of output N). timm's
final norm, ``head.norm``, is the norm of the last output, ``norm3``, as
mmpretrain's own converter of the official ConvNeXt weights maps it; the
norms of the other outputs are not in the file and start fresh
(``fresh``), as when mmdet loads a ConvNeXt classifier.
"""

from .layout import OUTPUT_NORMS, Layout

TIMM_CONVNEXT = Layout(
    name='timm ConvNeXt state dict',
    source='timm models/convnext.py (ConvNeXt); mmpretrain '
    'models/backbones/convnext.py',
    container=None,
    rename=(
        (r'^stem\.', 'downsample_layers.0.'),
        (r'^stages\.(\d+)\.downsample\.', r'downsample_layers.\1.'),
        (r'^stages\.(\d+)\.blocks\.(\d+)\.', r'stages.\1.\2.'),
        (r'\.conv_dw\.', '.depthwise_conv.'),
        (r'\.mlp\.fc1\.', '.pointwise_conv1.'),
        (r'\.mlp\.fc2\.', '.pointwise_conv2.'),
        (r'^head\.norm\.', 'norm3.'),
    ),
    keep=r'^(downsample_layers\.\d+\.[01]|stages\.\d+\.\d+|norm3)\.',
    parts=(('head.fc.', 'the classifier'),),
    fresh=(OUTPUT_NORMS,),
)
