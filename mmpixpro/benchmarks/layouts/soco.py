"""The SoCo release.

Read from hologerry/SoCo ``main_pretrain.py`` (``save_checkpoint``:
``{'opt', 'model': the DDP-wrapped model's state dict, 'optimizer',
'scheduler', 'epoch', ...}``) and ``contrast/models/SoCo_C4.py`` /
``SoCo_FPN.py`` (``encoder`` / ``encoder_k``, ResNets with torchvision's
names; ``projector`` / ``projector_k``, ``predictor``; C4: ``queue``,
``queue_ptr``; FPN: ``neck`` / ``neck_k``, ``head`` / ``head_k``). Its
``converter_detectron2/`` and ``converter_mmdetection/`` scripts transfer
``module.encoder.*``. The backbone is loaded; SoCo's pre-trained FPN and box
head are not (their layouts are not those of our detectors).
"""

from .layout import Layout

SOCO = Layout(
    name='SoCo release',
    source='hologerry/SoCo main_pretrain.py (save_checkpoint), '
    'contrast/models/SoCo_C4.py, SoCo_FPN.py',
    container='model',
    backbone='encoder.',
    requires=('predictor.',),
    excludes=('projector_instance.',),
    parts=(
        ('encoder_k.', 'the momentum encoder'),
        ('neck', 'the pre-trained FPN and its momentum copy'),
        ('head', 'the pre-trained box head and its momentum copy'),
        ('projector', 'the projectors'),
        ('predictor.', 'the predictor'),
        ('queue', 'the queue of negatives'),
    ),
)
