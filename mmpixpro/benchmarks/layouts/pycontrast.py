"""PyContrast releases (InfoMin, MoCo, PIRL, InsDis; Table 1's InfoMin).

Read from HobbitLong/PyContrast ``pycontrast/learning/contrast_trainer.py``
(``save``: ``{'model': the DDP-wrapped model's state dict, 'contrast',
'optimizer', 'epoch'[, 'model_ema', 'amp']}``) and
``pycontrast/networks/build_backbone.py`` (``RGBSingleHead``: ``encoder``, a
ResNet with torchvision's names, and ``head``, the projection head);
``pycontrast/detection/convert_pretrained.py`` transfers
``module.encoder.*``.
"""

from .layout import Layout

PYCONTRAST = Layout(
    name='PyContrast release (InfoMin, ...)',
    source='HobbitLong/PyContrast pycontrast/learning/contrast_trainer.py (save), '
    'pycontrast/networks/build_backbone.py',
    container='model',
    backbone='encoder.',
    requires=('head.',),
    excludes=('projector', 'neck.', 'queue'),
    parts=(('head', 'the projection head'),),
)
