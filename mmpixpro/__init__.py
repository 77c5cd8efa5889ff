"""mmpixpro: PixPro pixel-level self-supervised pre-training for OpenMMLab 2.x."""

from .packaging import register_config_package
from .utils.checkpoint import allow_checkpoint_types
from .version import __version__, version_info

# Checkpoints written by mmengine / this project load with
# ``torch.load(weights_only=True)`` once mmpixpro is imported.
allow_checkpoint_types()
# ``_base_ = 'mmpixpro::selfsup/<config>.py'`` resolves once mmpixpro is
# imported, from any folder and for editable installs too.
register_config_package()

__all__ = ['__version__', 'version_info']
