"""Make a checkpoint to share, as OpenMMLab's publish_model.py does::

    python tools/model_converters/publish_model.py IN.pth OUT.pth

writes ``OUT_<YYYYMMDD>-<first 8 hex digits of its SHA-256>.pth`` with the
weights (``state_dict``) and ``meta`` only: no optimizer, schedulers or
message hub, and ``meta`` without the config text and the run's paths, in
plain values, so that ``torch.load(OUT, weights_only=True)`` reads it in any
project without importing mmpixpro (mmdet's / mmseg's ``load_from`` and
``init_cfg=dict(type='Pretrained', ...)`` included), and the transfer hook
of the benchmark configs takes it as a pre-training checkpoint
(mmpixpro.engine.publish). IN is read by mmpixpro's reader
(weights_only=True, its tensor digest checked); OUT carries the digest of
its own tensors. Pre-training publishes its last checkpoint itself with
``--cfg-options default_hooks.publish.enable=True``.
"""

import argparse
from functools import partial

from mmpixpro.engine import read_checkpoint
from mmpixpro.engine.publish import publish_checkpoint
from mmpixpro.utils.cli import add_debug_arg, run_tool


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('in_file', help='checkpoint written by a Runner')
    parser.add_argument(
        'out_file', help='output name; the date and SHA-256 prefix are added'
    )
    args = add_debug_arg(parser).parse_args(argv)
    return publish_checkpoint(
        args.in_file, args.out_file, log=print, read=partial(read_checkpoint, mmap=True)
    )


if __name__ == '__main__':
    run_tool(main)
