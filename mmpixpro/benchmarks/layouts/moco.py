"""MoCo v1 / v2 and MoCo v3 (ResNet) releases.

Read from facebookresearch/moco ``main_moco.py`` (``save_checkpoint({'epoch',
'arch', 'state_dict': model.state_dict(), 'optimizer'})`` of the
DDP-wrapped model) and ``moco/builder.py`` (``MoCo``: ``encoder_q`` and
``encoder_k``, torchvision ResNets whose ``fc`` is the projection head, and
the ``queue`` / ``queue_ptr`` buffers); its ``main_lincls.py`` and
``detection/convert-pretrain-to-detectron2.py`` take
``module.encoder_q.*`` as the backbone.

Read from facebookresearch/moco-v3 ``main_moco.py`` (the same
``save_checkpoint`` with ``'scaler'``) and ``moco/builder.py``
(``MoCo_ResNet``: ``base_encoder`` and ``momentum_encoder`` with the
projector as ``fc``, and ``predictor``); its ``main_lincls.py`` takes
``module.base_encoder.*`` without ``fc``.
"""

from .layout import Layout

MOCO = Layout(
    name='MoCo v1 / v2 release',
    source='facebookresearch/moco main_moco.py (save_checkpoint), moco/builder.py',
    container='state_dict',
    backbone='encoder_q.',
    parts=(
        ('encoder_q.fc', 'the projection head'),
        ('encoder_k.', 'the momentum (key) encoder'),
        ('queue', 'the queue of negatives'),
    ),
)

MOCO_V3 = Layout(
    name='MoCo v3 release (ResNet)',
    source='facebookresearch/moco-v3 main_moco.py (save_checkpoint), '
    'moco/builder.py (MoCo_ResNet)',
    container='state_dict',
    backbone='base_encoder.',
    parts=(
        ('base_encoder.fc', 'the projector'),
        ('momentum_encoder.', 'the momentum encoder'),
        ('predictor.', 'the predictor'),
    ),
)
