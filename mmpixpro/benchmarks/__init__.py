"""Fine-tuning PixPro checkpoints in mmdet / mmseg / mmpretrain.

Imported by the benchmark configs (``custom_imports``): registers the
checkpoint-loading hook and the precise-BN hook in mmengine's root registry
(found from mmdet / mmseg / mmpretrain scopes), and mmpretrain's
``ResLayerExtraNorm`` (the C4 RoI shared head with a norm after res5) in
mmdet's.
"""

from mmpretrain.models.utils import ResLayerExtraNorm

from .precise_bn_hook import PreciseBNBeforeEvalHook
from .transfer import TransferError, format_report, transfer_weights
from .transfer_hook import PretrainedTransferHook

__all__ = [
    'PreciseBNBeforeEvalHook',
    'PretrainedTransferHook',
    'ResLayerExtraNorm',
    'TransferError',
    'format_report',
    'transfer_weights',
]
