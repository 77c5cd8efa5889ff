"""What a speed measurement is asked to do: :class:`SpeedOptions`."""

import os.path as osp
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

#: The source tree measured (this checkout, two folders up from here): its
#: configs, bundled photos and git history.
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PHOTOS = osp.join(REPO, 'demo', 'photos')


@dataclass
class SpeedOptions:
    """The options of ``.dev_scripts/speed.py`` (same names and defaults).

    Attributes:
        batch, size: Images per view and their side in pixels (two views).
        steps: Timed steps (medians), after two warm-up steps.
        depth: ResNet depth of the measured configs (18, 34, 50, 101).
        device: ``'cpu'`` or ``'cuda'``; None: a GPU when there is one.
        amp: Autocast (fp16 on a GPU, bf16 on CPU); None: on a GPU only.
        threads: Torch threads; None: torch's default.
        channels_last: Both models in (or not in) channels_last; None: the
            config's setting.
        compare_channels_last, compare_amp: Also time PixPro with the same
            weights in the other memory format / precision.
        skip_steps, skip_pipelines, skip_memory: Leave those rows out.
        baseline: A git revision: also time this tree's training step against
            it (one process each, interleaved).
        compile: With ``baseline``: also time this tree under torch.compile.
        compile_backend: The torch.compile backend.
        photos: Folder of ``.png`` / ``.jpg`` photos for the pipelines.
        pipeline_images: Images each pipeline processes.
        matrix: Only the step matrix (AMP, channels_last, compile on / off).
        pixel_head: Only the pixel head at P3 of ``size``, ``batch`` images:
            dense against chunked (peak memory, forward + backward time over
            ``steps`` repeats, the largest difference).
        combos: With ``matrix``: these ``(amp, channels_last, compile)``
            combinations only; None: all eight.
        matrix_configs: With ``matrix``: names of ``STEP_CONFIGS`` to step.
        budget: With ``matrix``: start a combination only if it is expected
            to end within this many seconds of the start.
        backbones: Only Swin / ConvNeXt / ViT PixPro against R50 C5: FLOPs,
            parameters, step time and peak memory per image, and their
            ratios (:mod:`.backbones`).
        backbone_models: With ``backbones``: names of ``BACKBONE_MODELS``;
            None: all of them.
        json: Also write the report to this file.
    """

    batch: int = 4
    size: int = 224
    steps: int = 5
    depth: int = 50
    device: Optional[str] = None
    amp: Optional[bool] = None
    threads: Optional[int] = None
    channels_last: Optional[bool] = None
    compare_channels_last: bool = False
    compare_amp: bool = False
    skip_steps: bool = False
    skip_pipelines: bool = False
    skip_memory: bool = False
    baseline: Optional[str] = None
    compile: bool = False
    compile_backend: str = 'inductor'
    photos: str = PHOTOS
    pipeline_images: int = 120
    matrix: bool = False
    pixel_head: bool = False
    combos: Optional[Sequence[Tuple[bool, bool, bool]]] = None
    matrix_configs: Sequence[str] = ('C5',)
    budget: Optional[float] = None
    backbones: bool = False
    backbone_models: Optional[Sequence[str]] = None
    json: Optional[str] = None
