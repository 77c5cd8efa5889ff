"""Fine-tuning PixPro checkpoints in mmdet / mmseg / mmpretrain.

Imported by the benchmark configs (``custom_imports``). Importing it also
registers mmpretrain's ``ResLayerExtraNorm`` (the C4 RoI shared head with a
norm after res5) in mmdet's registry.
"""

from mmpretrain.models.utils import ResLayerExtraNorm

from .transfer import TransferError, format_report, transfer_weights
from .transfer_hook import PretrainedTransferHook

__all__ = [
    'PretrainedTransferHook',
    'ResLayerExtraNorm',
    'TransferError',
    'format_report',
    'transfer_weights',
]
