"""A file of more than ``max_bytes`` is refused by ``fstat``, before a byte
of it is read."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import PHOTOS, REPO
from PIL import Image

from mmpixpro.datasets.transforms import LoadImageOrSkip
from mmpixpro.datasets.transforms.image_header import ImageTooLarge
from mmpixpro.datasets.transforms.loading import MAX_BYTES, read_regular_file

GIB = 1 << 30

# The loader's default, in a fresh process: peak RSS (ru_maxrss, KiB) before
# and after loading the padded file; a control image first, so that imports
# and decoders are warm.
MEASURE = """
import resource, sys
from mmengine.logging import MMLogger
from mmpixpro.datasets.transforms import LoadImageOrSkip

MMLogger.get_instance('byte_limit')
load = LoadImageOrSkip()
assert load(dict(img_path=sys.argv[2])) is not None
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
results = dict(img_path=sys.argv[1])
out = load(results)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print('SKIPPED', out is None)
print('GROWTH_MIB', (after - before) / 1024)
print('REASON', results.get('unreadable_reason'))
"""


def padded_png(path, size: int) -> None:
    """A valid 64 x 64 PNG followed by zeros up to ``size`` bytes, as a
    sparse file (``truncate``: a few KiB on disk)."""
    out = io.BytesIO()
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(out, 'PNG')
    path.write_bytes(out.getvalue())
    os.truncate(path, size)


def test_a_png_padded_to_1_gib_is_refused_without_reading_it(tmp_path):
    """Read whole, the padded file cost its size in memory (2.8 GiB peak at
    1 GiB in issue 28's measurement) in every worker that met it. Refused
    from its size: one line, and the peak RSS of the process grows by less
    than 64 MiB."""
    path = tmp_path / 'padded.png'
    padded_png(path, GIB)
    assert os.path.getsize(path) == GIB
    assert os.stat(path).st_blocks * 512 < 1 << 20  # sparse: nothing to read
    proc = subprocess.run(
        [sys.executable, '-c', MEASURE, str(path), f'{PHOTOS}/chelsea.png'],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = dict(line.split(' ', 1) for line in proc.stdout.splitlines())
    assert out['SKIPPED'] == 'True', proc.stdout
    assert out['REASON'] == (
        f'a file of 1.0 GiB, more than max_bytes={MAX_BYTES} (128.0 MiB, above '
        'any ImageNet / COCO image): raise LoadImageOrSkip(max_bytes=...) for '
        'such files'
    )
    growth = float(out['GROWTH_MIB'])
    assert growth < 64, f'peak RSS grew by {growth:.0f} MiB'
    # one warning, naming the file, in the run's output
    output = (proc.stdout + proc.stderr).splitlines()
    logged = [line for line in output if 'image skipped: ' in line]
    assert len(logged) == 1 and f'image skipped: {path}: a file of 1.0 GiB' in logged[0]


def test_the_byte_limit_is_configurable(tmp_path):
    chelsea = f'{PHOTOS}/chelsea.png'
    size = os.path.getsize(chelsea)
    results = dict(img_path=chelsea)
    assert LoadImageOrSkip(max_bytes=size - 1)(results) is None
    assert f'more than max_bytes={size - 1}' in results['unreadable_reason']
    assert LoadImageOrSkip(max_bytes=size)(dict(img_path=chelsea)) is not None
    assert LoadImageOrSkip(max_bytes=None)(dict(img_path=chelsea)) is not None
    with pytest.raises(ValueError, match='max_bytes'):
        LoadImageOrSkip(max_bytes=0)
    with pytest.raises(ImageTooLarge):
        read_regular_file(chelsea, size - 1)
    assert len(read_regular_file(chelsea, size)) == size
