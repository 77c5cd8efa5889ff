"""Speed and memory of PixPro, as ratios measured in one run
(``.dev_scripts/speed.py``): development tooling, not part of the installed
``mmpixpro`` package.

1. Training step of PixPro against the plain two-view step (same backbone,
   projector, momentum target; a pooled cosine loss instead of the pixel
   head: the instance-level counterpart), for C5 and for FPN + head (P3-P6):
   :mod:`.steps`.
2. ``baseline``: the whole training step (``model.train_step``: data
   preprocessor, momentum update, pixel head, backward, the config's LARS)
   of this tree against a git revision (exported with ``git archive``),
   each in its own process, same weights and batch, steps interleaved; with
   ``compile`` also this tree under ``torch.compile`` (a cold compile,
   whose time and payback are reported): :mod:`.revisions`, :mod:`.worker`.
3. Two-view augmentation with boxes (the config's pipeline) against the same
   recipe written with PIL + torchvision, on the bundled photos (or
   ``photos``), on JPEG copies of them, and decoding alone:
   :mod:`.pipelines`.
4. Peak memory of the PixPro part alone at P3 of 448 px inputs, batch 16:
   dense against the chunked default: :mod:`.memory`.
5. ``matrix``: this tree's step with AMP, channels_last and compile each on
   and off, one process per combination (the GPU check): :mod:`.matrix`.
6. ``pixel_head``: the pixel head at P3, dense against chunked, at the
   configs' 128 images (the GPU check): :mod:`.memory`.
7. ``backbones``: PixPro on Swin / ConvNeXt / ViT against R50 C5, one process per
   model: FLOPs, parameters, step time and peak memory per image, ratios:
   :mod:`.backbones`.

Models are the pre-training configs at another ResNet depth, shrunk by
:func:`mmpixpro.testing.shrink_config` (:mod:`.models`). Medians over
``steps`` steps after two warm-up steps. :func:`measure_speed` runs what
:class:`SpeedOptions` asks for (:mod:`.report`).
"""

from .backbones import BACKBONE_MODELS
from .matrix import ALL_COMBOS, parse_combo, step_matrix
from .models import STEP_CONFIGS
from .options import PHOTOS, REPO, SpeedOptions
from .report import measure_speed

__all__ = [
    'ALL_COMBOS',
    'BACKBONE_MODELS',
    'PHOTOS',
    'REPO',
    'STEP_CONFIGS',
    'SpeedOptions',
    'measure_speed',
    'parse_combo',
    'step_matrix',
]
