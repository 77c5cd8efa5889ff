"""detectron2 ``.pkl`` weights: numpy arrays in detectron2's ResNet names.

Read from facebookresearch/detectron2 ``detectron2/checkpoint/
detection_checkpoint.py`` (a ``.pkl`` is ``pickle.load(f, encoding='latin1')``
of ``{'model': {name: numpy array}, '__author__': ...,
'matching_heuristics': True}``) and ``tools/convert-torchvision-to-d2.py``,
whose renaming the conversion scripts of MoCo
(``detection/convert-pretrain-to-detectron2.py``), PixPro
(``transfer/detection/convert_pretrain_to_d2.py``), DenseCL, SoCo, SlotCon and
PyContrast repeat:

==========================  ==========================
torchvision (ours)          detectron2
==========================  ==========================
``conv1`` / ``bn1``         ``stem.conv1`` / ``stem.conv1.norm``
``layerN`` (N = 1..4)       ``res{N+1}``
``.bnK``                    ``.convK.norm``
``.downsample.0`` / ``.1``  ``.shortcut`` / ``.shortcut.norm``
``fc``                      ``stem.fc`` (a head, not loaded)
==========================  ==========================

The file is read by :mod:`mmpixpro.utils.numpy_pickle`, which admits numpy
arrays and plain containers only.
"""

import re

from .layout import Layout

# ours -> detectron2's, in order
TO_DETECTRON2 = (
    (r'^(conv1|bn1|fc)\.', r'stem.\1.'),
    (r'^layer1\.', 'res2.'),
    (r'^layer2\.', 'res3.'),
    (r'^layer3\.', 'res4.'),
    (r'^layer4\.', 'res5.'),
    (r'(^|\.)bn(\d)\.', r'\1conv\2.norm.'),
    (r'\.downsample\.0\.', '.shortcut.'),
    (r'\.downsample\.1\.', '.shortcut.norm.'),
)
# detectron2's -> ours, in order
FROM_DETECTRON2 = (
    (r'^stem\.conv1\.norm\.', 'bn1.'),
    (r'^stem\.', ''),
    (r'^res2\.', 'layer1.'),
    (r'^res3\.', 'layer2.'),
    (r'^res4\.', 'layer3.'),
    (r'^res5\.', 'layer4.'),
    (r'\.conv(\d)\.norm\.', r'.bn\1.'),
    (r'\.shortcut\.norm\.', '.downsample.1.'),
    (r'\.shortcut\.', '.downsample.0.'),
)


def detectron2_name(name: str) -> str:
    """A torchvision ResNet name in detectron2's ResNet names."""
    for pattern, replacement in TO_DETECTRON2:
        name = re.sub(pattern, replacement, name)
    return name


DETECTRON2 = Layout(
    name='detectron2 .pkl',
    source='facebookresearch/detectron2 detectron2/checkpoint/'
    'detection_checkpoint.py, tools/convert-torchvision-to-d2.py',
    container='model',
    rename=FROM_DETECTRON2,
    author='__author__',
    parts=(
        ('stem.fc', 'the classifier / projection head'),
        ('fpn_', 'a pre-trained FPN'),
        ('box_head.', 'a pre-trained box head'),
    ),
)
