"""A ResNet state dict under ``'state_dict'``: an extracted backbone.

Read from WXinlong/DenseCL ``tools/extract_backbone_weights.py``, which
writes the published DenseCL models: ``{'state_dict': the tensors under
backbone. without it, 'author': 'DenseCL'}`` (OpenSelfSup's script, which it
follows, wrote ``'author': 'OpenSelfSup'``); CVMI-Lab/SlotCon
``transfer/segmentation/convert_pretrain_to_mm.py`` (its "backbone only"
files: ``{'state_dict': module.encoder_k.* without the prefix and fc}``);
tonylins/simclr-converter ``convert.py`` (SimCLR's TensorFlow ResNet-50 as
``{'state_dict': torchvision ResNet state dict}``). The names are
torchvision's; nothing is renamed.
"""

from .layout import Layout

BACKBONE_FILE = Layout(
    name="ResNet state dict under 'state_dict' (DenseCL / SlotCon / SimCLR "
    'converter files)',
    source='WXinlong/DenseCL tools/extract_backbone_weights.py; CVMI-Lab/SlotCon '
    'transfer/segmentation/convert_pretrain_to_mm.py; tonylins/simclr-converter '
    'convert.py',
    container='state_dict',
    author='author',
    parts=(('fc.', 'the classifier'),),
)
