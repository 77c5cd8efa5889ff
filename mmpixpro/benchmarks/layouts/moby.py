"""The MoBY release (Swin Transformer encoders), in mmdet's
``SwinTransformer`` names.

Read from SwinTransformer/Transformer-SSL ``utils.py`` (``save_checkpoint``:
``{'model': model.state_dict(), 'optimizer', 'lr_scheduler',
'max_accuracy', 'epoch', 'config'[, 'amp']}`` of the model without its DDP
wrapper; ``config`` is the run's yacs ``CfgNode``), ``models/moby.py``
(``MoBY``: ``encoder`` and ``encoder_k``; ``projector`` / ``projector_k``
and ``predictor``, ``MoBYMLP``s; the ``queue1`` / ``queue2`` / ``queue_ptr``
buffers), ``models/build.py`` (the encoders are that repository's
``SwinTransformer`` with ``num_classes=0``: no head) and
``models/swin_transformer.py`` (the Swin Transformer release's names and
patch merging). Swin-Transformer-Object-Detection ``mmcv_custom/checkpoint.py``
transfers MoBY's online branch, ``encoder.*``, as the release.

The online encoder is loaded as :data:`~.swin_release.SWIN_RELEASE` is
(mmdet's ``swin_converter``); its final norm is not, and the four output
norms start fresh. An encoder trained with ``NORM_BEFORE_MLP: bn`` has no
``norm2`` weights (its batch norm is built anew at each call), which
mmdet's Swin needs: the load stops naming them. DeiT encoders are not Swin
Transformers and are in no layout here.

The yacs ``CfgNode`` in the file is read as data: :class:`CfgNodeEntries`
stands for it while the file is read (see its docstring); yacs is neither
needed nor imported.
"""

from collections import OrderedDict

from .layout import OUTPUT_NORMS
from .swin_release import SWIN_KEYS, SWIN_RENAMES, SwinReleaseLayout


class CfgNodeEntries:
    """Stands for yacs's ``CfgNode`` (a ``dict`` subclass) while a MoBY
    release is read, allowed for that read only: pickle protocol 2 writes a
    ``CfgNode`` as the class, created with no arguments (``NEWOBJ``), its
    entries (``SETITEMS``) and its four flags (``BUILD``). Creating one gives
    an ``OrderedDict`` instead, which takes the entries as a dict and the
    flags as attributes; any other use of the name (arguments to create or
    to call it) is refused. Nothing of yacs runs."""

    def __new__(cls, *args, **kwargs):
        if args or kwargs:
            from pickle import UnpicklingError

            raise UnpicklingError(  # named as torch names a refused global
                'Unsupported global: GLOBAL yacs.config.CfgNode called with '
                'arguments (not a pickled CfgNode)'
            )
        return OrderedDict()


# The name under which a CfgNode is pickled.
CfgNodeEntries.__module__ = 'yacs.config'
CfgNodeEntries.__name__ = CfgNodeEntries.__qualname__ = 'CfgNode'

MOBY = SwinReleaseLayout(
    name='MoBY release (Swin Transformer encoder)',
    source='SwinTransformer/Transformer-SSL utils.py (save_checkpoint), '
    'models/moby.py, models/build.py, models/swin_transformer.py; mmdet '
    'models/backbones/swin.py (swin_converter)',
    container='model',
    backbone='encoder.',
    rename=SWIN_RENAMES,
    keep=SWIN_KEYS,
    requires=('encoder.layers.0.blocks.0.attn.qkv.', 'predictor.'),
    parts=(
        ('encoder.norm.', "the encoder's final norm"),
        ('encoder.layers.', 'attention masks of shifted windows (computed)'),
        ('encoder_k.', 'the momentum encoder'),
        ('projector', 'the projector and its momentum copy'),
        ('predictor.', 'the predictor'),
        ('queue', 'the queues of negatives'),
    ),
    fresh=(OUTPUT_NORMS,),
)
