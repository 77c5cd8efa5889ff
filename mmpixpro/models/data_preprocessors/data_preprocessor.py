"""The data preprocessor of PixPro: mmpretrain's, outside ``torch.compile``."""

import torch
from mmpretrain.models.utils import SelfSupDataPreprocessor

from mmpixpro.registry import MODELS


@MODELS.register_module()
class PixProDataPreprocessor(SelfSupDataPreprocessor):
    """mmpretrain's ``SelfSupDataPreprocessor`` whose ``forward`` always runs
    eagerly.

    Under ``torch.compile`` (the Runner's ``compile`` key compiles
    ``train_step``, which calls the preprocessor) a traced preprocessor would
    guard on each batch's ``DataSample`` metainfo (image paths, shapes) and
    compile again every step. This subclass exists for that one line: the
    normalisation and stacking are mmpretrain's, unchanged.

    Args: those of ``SelfSupDataPreprocessor`` (``mean``, ``std``,
    ``to_rgb``, ``pad_size_divisor``, ...).
    """

    @torch.compiler.disable
    def forward(self, data: dict, training: bool = False) -> dict:
        """mmpretrain's ``forward``, never traced."""
        return super().forward(data, training)
