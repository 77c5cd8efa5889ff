"""Mixed precision on CPU: the forward pass under bf16 autocast."""

from contextlib import contextmanager
from typing import Union

import torch
from mmengine.optim import OptimWrapper
from torch import nn

from mmpixpro.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` that runs the forward pass under CPU autocast.

    (mmengine's ``AmpOptimWrapper`` refuses to start without a GPU-like
    device.) Convolutions and matrix products run in ``dtype``; losses,
    normalisations and the weights stay float32. bf16 keeps float32's
    exponent range, so no loss scaling is needed; float16 is refused here
    because it would need it. ``tools/train.py --amp`` picks this wrapper
    when no GPU is visible.

    Args:
        dtype (str | torch.dtype): Autocast type. Only ``'bfloat16'``.
        **kwargs: Arguments of ``OptimWrapper``.
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'bfloat16', **kwargs) -> None:
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype, None)
        if dtype is not torch.bfloat16:
            raise ValueError(
                'CPUAutocastOptimWrapper supports dtype=bfloat16 only '
                f'(float16 would need loss scaling), got {dtype}'
            )
        super().__init__(**kwargs)
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), torch.autocast(
            device_type='cpu', dtype=self.cast_dtype
        ):
            yield
