"""The authors' PixPro release.

Read from zdaxie/PixPro ``main_pretrain.py`` (``save_checkpoint``:
``{'opt': the options, 'model': the DDP-wrapped model's state dict,
'optimizer', 'scheduler', 'epoch'[, 'amp']}``; ``publish_model.py`` keeps
``'model'`` only, as in the published files) and ``contrast/models/PixPro.py``
(``encoder`` and ``encoder_k``, ResNets with torchvision's names;
``projector`` / ``projector_k``; ``value_transform``; with the instance
branch ``projector_instance`` / ``projector_instance_k`` and ``predictor``).
Its ``transfer/detection/convert_pretrain_to_d2.py`` transfers
``module.encoder.*``, the online encoder. SoCo and PyContrast keep their
encoder under the same name; their other modules tell them apart
(``queue`` and a ``predictor`` without ``projector_instance``: SoCo;
``head``: PyContrast). tools/model_converters/pixpro_official_to_mmpixpro.py
converts a whole release checkpoint into ours.
"""

from .layout import Layout

PIXPRO_RELEASE = Layout(
    name="the authors' PixPro release",
    source='zdaxie/PixPro main_pretrain.py (save_checkpoint), publish_model.py, '
    'contrast/models/PixPro.py',
    container='model',
    backbone='encoder.',
    requires=('projector.',),
    excludes=('queue', 'neck.', 'head.'),
    parts=(
        ('encoder_k.', 'the momentum encoder'),
        ('projector', 'the projectors and their momentum copies'),
        ('value_transform.', "the PPM's transform"),
        ('predictor.', 'the instance predictor'),
    ),
)
