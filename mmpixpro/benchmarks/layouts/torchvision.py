"""torchvision's (and timm's) ResNet state dict: the file is the state dict.

Read from torchvision ``models/resnet.py`` (``ResNet``: ``conv1``, ``bn1``,
``layer1``-``layer4`` of ``BasicBlock`` / ``Bottleneck`` with ``convK``,
``bnK``, ``downsample.0`` / ``.1``; ``fc``) and its published weights,
``torch.save(model.state_dict())``. timm's plain ResNets (timm
``models/resnet.py``: ``resnet18`` ... ``resnet152``, not the deep-stem
``c`` / ``d`` variants) use the same names. Our ``ResNet`` (mmdet / mmseg /
mmpretrain) has them too: nothing is renamed. Weights saved before PyTorch
0.4.1 (torchvision's first ImageNet files) have no ``num_batches_tracked``.
"""

from .layout import Layout

TORCHVISION = Layout(
    name='torchvision / timm ResNet state dict',
    source='torchvision models/resnet.py (ResNet); timm models/resnet.py',
    container=None,
    parts=(('fc.', 'the classifier'),),
)
