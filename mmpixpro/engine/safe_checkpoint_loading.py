"""Importing this module makes mmengine's checkpoint loader read every
checkpoint with mmpixpro's reader
(:func:`~mmpixpro.engine.checkpoint_reader.read_checkpoint`:
``weights_only=True``, URLs downloaded then read as files, the tensor
digest checked, one-line refusals).

mmengine's ``CheckpointLoader`` reads ``load_from``, a ``Pretrained``
``init_cfg`` and ``--resume`` of any project's ``train.py`` with
``torch.load`` without ``weights_only`` (and URLs through torch's
``load_url``, which passes ``weights_only=False``): a checkpoint could run
code there. Our configs name this module in ``custom_imports``, and our tools
import it, so that those loads are ours before anything is unpickled; the
registration goes through mmengine's public ``register_scheme``.

It is a module of its own, imported only where a config or an entry point
asks for it, because it changes how mmengine loads checkpoints in the whole
process: ``import mmpixpro`` (or any other of its modules) changes nothing
in other libraries.
"""

from .checkpoint_reader import register_checkpoint_loader

register_checkpoint_loader()
