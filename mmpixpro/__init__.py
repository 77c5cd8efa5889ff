"""mmpixpro: PixPro pixel-level self-supervised pre-training for OpenMMLab 2.x."""

import torch
from torch.torch_version import TorchVersion

from .packaging import register_config_package
from .version import __version__, version_info

# Checkpoints are read with weights_only=True and, for older files, a few
# types allowed for one read (torch.serialization.add_safe_globals, 2.4+).
TORCH_FLOOR = '2.4'
if TorchVersion(torch.__version__) < TORCH_FLOOR:
    raise ImportError(
        f'mmpixpro needs torch >= {TORCH_FLOOR} (to read checkpoints as data, '
        f'with weights_only=True); this is torch {torch.__version__}: install '
        'a newer torch'
    )

# ``_base_ = 'mmpixpro::selfsup/<config>.py'`` resolves once mmpixpro is
# imported, from any folder (a regular install, or an editable one linked by
# tools/install.sh): 'mmpixpro' is added to mmengine's MODULE2PACKAGE, the
# only change importing mmpixpro makes outside its own registries.
register_config_package()

__all__ = ['__version__', 'version_info']
