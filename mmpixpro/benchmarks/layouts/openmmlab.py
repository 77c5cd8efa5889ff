"""OpenMMLab checkpoints: ``backbone.*`` under ``'state_dict'``.

mmengine's ``Runner.save_checkpoint`` writes ``{'meta', 'state_dict',
'message_hub', 'optimizer', 'param_schedulers'}`` (MMCV 1.x's runner,
MMSelfSup 0.x and OpenSelfSup, DenseCL's training code, ``{'meta',
'state_dict', 'optimizer'}``). Every mmpretrain model keeps its network in
``backbone`` (``mmpretrain/models/selfsup/base.py`` ``BaseSelfSupervisor``,
``models/classifiers/image.py`` ``ImageClassifier``); the names under it are
those of the same backbone in mmdet / mmseg, so nothing is renamed. What
else the algorithm holds is left out and named: the momentum / target
copies (``encoder_k`` of MoCo v2 and DenseCL, ``momentum_encoder`` of MoCo
v3, ``target_net`` of BYOL, each an ``ExponentialMovingAverage`` of
``Sequential(backbone, neck)``), the neck and head of the pre-training (or
the classifier) and the queues.

This project's own pre-training checkpoints are told apart by their
momentum backbone, ``target_net.module.backbone.*`` (``PixPro.target_net``
wraps named modules): they load as they are, the transfer rules of the
benchmark config taking the backbone and, when it has them, the FPN and
FCOS towers pre-trained with it.
"""

from .layout import OUTPUT_NORMS, Layout

MMPIXPRO = Layout(
    name='mmpixpro pre-training checkpoint',
    source='this project: PixPro (mmpixpro/models/algorithms/pixpro.py)',
    container='state_dict',
    backbone='backbone.',
    keep='',
    requires=('target_net.module.backbone.',),
    whole=True,
)

OPENMMLAB = Layout(
    name='OpenMMLab checkpoint (mmpretrain / MMSelfSup, any algorithm)',
    source='mmengine Runner.save_checkpoint; mmpretrain models/selfsup/base.py, '
    'models/classifiers/image.py',
    container='state_dict',
    backbone='backbone.',
    keep='',
    excludes=('target_net.module.backbone.',),
    parts=(
        ('encoder_k.', 'momentum copy'),
        ('momentum_encoder.', 'momentum copy'),
        ('target_net.', 'momentum / target copy'),
        ('teacher', 'teacher copy'),
        ('encoder_q.', 'the online encoder again'),
        ('neck.', "the pre-training's neck"),
        ('head.', "the pre-training's head or the classifier"),
        ('queue', 'queues of negatives'),
    ),
    # a classifier's Swin / ConvNeXt has the last output norm only
    fresh=(OUTPUT_NORMS,),
)
