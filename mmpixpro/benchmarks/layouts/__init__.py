"""Checkpoint layouts of published pre-trained models, recognised from their
contents (one table per layout, each citing where it was read).

:func:`recognise` takes a loaded checkpoint and returns its backbone in our
names (``backbone.*`` of mmdet's / mmseg's / mmpretrain's ``ResNet``, of
mmpretrain's ``ConvNeXt`` for timm's ConvNeXt, of mmdet's ``SwinTransformer``
for the Swin release, timm's Swin and MoBY's encoder) with the layout's
name; a checkpoint in no known layout, or in two, raises
:class:`LayoutError`.
"""

import argparse
from typing import Any

from .backbone_file import BACKBONE_FILE
from .detectron2 import DETECTRON2, detectron2_name
from .layout import OUTPUT_NORMS, Layout, LayoutError, Recognised, first_keys
from .layout import recognise as recognise_in
from .moby import MOBY, CfgNodeEntries
from .moco import MOCO, MOCO_V3
from .openmmlab import MMPIXPRO, OPENMMLAB
from .pixpro_release import PIXPRO_RELEASE
from .pycontrast import PYCONTRAST
from .slotcon import SLOTCON
from .soco import SOCO
from .swin_release import SWIN_RELEASE, SWIN_STATE_DICT
from .timm_convnext import TIMM_CONVNEXT
from .timm_swin import TIMM_SWIN
from .torchvision import TORCHVISION

LAYOUTS = (
    MMPIXPRO,
    OPENMMLAB,
    TORCHVISION,
    TIMM_CONVNEXT,
    SWIN_RELEASE,
    SWIN_STATE_DICT,
    TIMM_SWIN,
    BACKBONE_FILE,
    MOCO,
    MOCO_V3,
    PIXPRO_RELEASE,
    SOCO,
    PYCONTRAST,
    SLOTCON,
    MOBY,
    DETECTRON2,
)

#: The types besides tensors that releases save and that their reading
#: allows: the options of the PixPro, SoCo and SlotCon releases
#: (``argparse.Namespace``), MoBY's yacs config (read as a dict).
ALLOWED_TYPES = (argparse.Namespace, CfgNodeEntries)


def recognise(ckpt: Any, source: str = 'the checkpoint') -> Recognised:
    """``ckpt`` (a loaded checkpoint) in the one of :data:`LAYOUTS` it is in.

    Raises:
        LayoutError: It is in none (naming those tried and its first keys),
            or in two (naming them).
    """
    return recognise_in(ckpt, LAYOUTS, source)


__all__ = [
    'ALLOWED_TYPES',
    'LAYOUTS',
    'OUTPUT_NORMS',
    'Layout',
    'LayoutError',
    'Recognised',
    'detectron2_name',
    'first_keys',
    'recognise',
]
