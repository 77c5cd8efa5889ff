"""mmpixpro: PixPro pixel-level self-supervised pre-training for OpenMMLab 2.x."""

from .utils.checkpoint import allow_checkpoint_types
from .version import __version__

# Checkpoints written by mmengine / this project load with
# ``torch.load(weights_only=True)`` once mmpixpro is imported.
allow_checkpoint_types()

__all__ = ['__version__']
