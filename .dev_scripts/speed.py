"""Measure speed and memory of PixPro, as ratios measured in one run
(development tooling: the ``pixpro_speed`` package beside this script)::

    python .dev_scripts/speed.py [--batch 4] [--size 224] [--steps 5]
        [--depth 50] [--device cpu|cuda] [--threads 2] [--skip-memory]
        [--skip-steps] [--skip-pipelines]
        [--channels-last] [--compare-channels-last] [--amp] [--compare-amp]
        [--baseline REF [--compile]]
        [--photos DIR] [--pipeline-images 120] [--json F]
    python .dev_scripts/speed.py --matrix [--combos 1,1,0 ...]
        [--budget S] [--json F]          # tools/analysis/gpu_check.sh
    python .dev_scripts/speed.py --pixel-head --batch 128 [--json F]  # idem
    python .dev_scripts/speed.py --backbones [--backbone-models NAME ...]
        [--batch 2] [--steps 3] [--json F]   # Swin / ConvNeXt / ViT vs R50 C5

Steps of PixPro against the instance-level step (C5, FPN + head), this
tree's training step against a git revision, the two-view pipeline against
PIL + torchvision, the pixel part's peak memory; or the step with AMP,
channels_last and compile on and off (--matrix); or the pixel head at P3,
dense against chunked (--pixel-head); or PixPro on Swin / ConvNeXt / ViT against
R50 C5: FLOPs, parameters, step time and peak memory per image and their
ratios (--backbones).
"""

import argparse
import os
import sys

import torch
from pixpro_speed import (
    BACKBONE_MODELS,
    PHOTOS,
    STEP_CONFIGS,
    SpeedOptions,
    measure_speed,
    parse_combo,
)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add, switch = parser.add_argument, argparse.BooleanOptionalAction
    add('--batch', type=int, default=4)
    add('--size', type=int, default=224)
    add('--steps', type=int, default=5)
    add('--depth', type=int, default=50, choices=[18, 34, 50, 101])
    add('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    add('--amp', action=switch, default=None)
    add('--threads', type=int, default=None)
    add('--pipeline-images', type=int, default=120)
    add('--photos', default=PHOTOS, help='folder of .png / .jpg photos (bundled ones)')
    add('--skip-memory', action='store_true')
    add(
        '--channels-last',
        action=switch,
        default=None,
        help="both models in (or not in) channels_last; default: the config's",
    )
    add(
        '--compare-channels-last',
        action='store_true',
        help='also time PixPro in the other memory format (same weights)',
    )
    add(
        '--compare-amp',
        action='store_true',
        help='also time PixPro with --amp switched (same weights)',
    )
    add(
        '--baseline',
        metavar='REF',
        help='also time the training step of this tree against git revision '
        'REF (e.g. main, HEAD~3), one process each, interleaved',
    )
    add(
        '--compile',
        action='store_true',
        help='with --baseline: also time this tree under torch.compile '
        '(cold compile; its time is reported)',
    )
    add('--skip-steps', action='store_true', help='no plain vs PixPro step rows')
    add('--skip-pipelines', action='store_true', help='no pipeline rows')
    add(
        '--matrix',
        action='store_true',
        help='only the step matrix: AMP, channels_last, compile on / off '
        '(tools/analysis/gpu_check.sh)',
    )
    add(
        '--combos',
        nargs='+',
        type=parse_combo,
        metavar='AMP,CL,COMPILE',
        help='with --matrix: only these combinations, e.g. 1,1,0 0,1,1',
    )
    add(
        '--matrix-configs',
        nargs='+',
        default=['C5'],
        choices=list(STEP_CONFIGS),
        help='with --matrix: the configs to step (default C5)',
    )
    add('--compile-backend', default='inductor', help='torch.compile backend')
    add(
        '--budget',
        type=float,
        default=None,
        help='with --matrix: start a combination only if it is expected to end '
        'within this many seconds of the start (longest one so far)',
    )
    add(
        '--pixel-head',
        action='store_true',
        help='only the pixel head at P3 of --size, --batch images: dense vs '
        'chunked, peak memory and fwd + bwd time over --steps repeats '
        '(tools/analysis/gpu_check.sh)',
    )
    add(
        '--backbones',
        action='store_true',
        help='only PixPro on Swin / ConvNeXt / ViT against R50 C5: GFLOPs, parameters, '
        'step time and peak memory per image, ratios (one process per model)',
    )
    add(
        '--backbone-models',
        nargs='+',
        choices=list(BACKBONE_MODELS),
        help='with --backbones: the models (default: all; R50 C5 is always '
        'measured, first and last)',
    )
    add('--json', help='also write the numbers here')
    args = parser.parse_args(argv)
    if not (args.matrix or args.pixel_head or args.backbones):
        if args.compile and not args.baseline:
            parser.error('--compile needs --baseline')
        if not os.path.isdir(args.photos):
            parser.error(f'--photos: no folder {args.photos}')
    options = SpeedOptions(**vars(args))
    return measure_speed(options, log=lambda line: print(line, flush=True))


if __name__ == '__main__':
    try:
        main()
    except FileNotFoundError as e:
        sys.exit(str(e))
