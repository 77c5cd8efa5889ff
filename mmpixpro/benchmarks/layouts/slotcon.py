"""The SlotCon release (its full checkpoints).

Read from CVMI-Lab/SlotCon ``main_pretrain.py`` (``save_checkpoint``:
``{'args', 'model': the DDP-wrapped model's state dict, 'optimizer',
'scheduler', 'epoch'[, 'scaler']}``) and ``models/slotcon.py`` (``SlotCon``:
``encoder_q`` / ``encoder_k``, ResNets with torchvision's names,
``projector_q`` / ``projector_k``, ``grouping_q`` / ``grouping_k``,
``predictor_slot``, ``center``). SlotCon transfers the teacher:
``transfer/detection/convert_pretrain_to_d2.py`` and
``transfer/segmentation/convert_pretrain_to_mm.py`` take
``module.encoder_k.*``, and so does this layout. Its "backbone only" files
are :mod:`.backbone_file`'s layout.
"""

from .layout import Layout

SLOTCON = Layout(
    name='SlotCon release (the teacher encoder, as SlotCon transfers it)',
    source='CVMI-Lab/SlotCon main_pretrain.py (save_checkpoint), models/slotcon.py, '
    'transfer/detection/convert_pretrain_to_d2.py',
    container='model',
    backbone='encoder_k.',
    requires=('grouping_k.',),
    parts=(
        ('encoder_q.', 'the student encoder; SlotCon transfers the teacher'),
        ('projector_', 'the projectors'),
        ('grouping_', 'the slot prototypes'),
        ('predictor_slot.', 'the slot predictor'),
        ('center', 'the centre of the teacher outputs'),
    ),
)
