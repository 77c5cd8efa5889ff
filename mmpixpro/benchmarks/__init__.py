"""Fine-tuning PixPro checkpoints in mmdet / mmseg / mmpretrain.

Imported by the benchmark configs (``custom_imports``): registers the
checkpoint-loading hook and the precise-BN hook in mmpixpro's ``HOOKS``
(named ``mmpixpro.PretrainedTransferHook``, ``mmpixpro.PreciseBNBeforeEvalHook``
from mmdet / mmseg / mmpretrain scopes), and imports mmpretrain's
``ResLayerExtraNorm`` (the C4 RoI shared head with a norm after res5), which
mmpretrain registers in mmdet's registry.
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
