"""On a GPU the pixel head runs dense when its blocks fit in a share of the
free memory; on CPU it keeps ``max_elements``."""

import pytest
import torch

from mmpixpro.models import PixelHead
from mmpixpro.models.heads.pixel_head import dense_decision_line
from mmpixpro.models.utils.chunked import (
    DENSE_BYTES_PER_ELEMENT,
    dense_block_elements,
    dense_fits,
    rows_per_chunk,
)

GiB = 1 << 30


def test_dense_block_elements_count_both_directions_and_both_ppms():
    # one level, 2 images, 3 x 4 and 2 x 2 pixels
    pairs = 2 * (2 * 12 * 4)
    ppm = 2 * (12 * 12 + 4 * 4)
    assert dense_block_elements(2, [(12, 4)]) == pairs + ppm
    assert dense_block_elements(2, [(12, 4)], with_ppm=False) == pairs
    assert dense_block_elements(2, [(12, 4), (1, 1)]) == pairs + ppm + 2 * 4


def test_p3_at_224_px_and_128_images_per_gpu():
    """P3 of 224 px crops (28 x 28 = 784 pixels), 128 images per GPU: the
    case the CPU bound cuts into 20 checkpointed chunks per direction."""
    elements = dense_block_elements(128, [(784, 784)])
    assert elements == 4 * 128 * 784 * 784
    need = elements * DENSE_BYTES_PER_ELEMENT
    assert 4.6 * GiB < need < 4.8 * GiB
    assert -(-784 // rows_per_chunk(128, 784, 784, 1 << 22)) == 20
    # an H100 with 60 GiB free: dense; with 8 GiB free (share 0.5): chunked
    assert dense_fits(elements, 60 * GiB, share=0.5)
    assert not dense_fits(elements, 8 * GiB, share=0.5)
    assert dense_fits(elements, 8 * GiB, share=0.6)
    line = dense_decision_line(True, elements, 60 * GiB, 0.5, 1 << 22)
    assert line == (
        'PixelHead: the dense pair / similarity blocks of a step take about '
        '4.69 GiB; 50% of the 60.00 GiB free on the GPU holds them: every '
        'level runs dense'
    )
    line = dense_decision_line(False, elements, 8 * GiB, 0.5, 1 << 22)
    assert line.endswith(
        'does not: levels over max_elements=4194304 run in checkpointed chunks '
        '(exact, recomputed in the backward pass)'
    )


def test_cpu_keeps_max_elements():
    ppm = dict(type='PixelPropagationModule', in_channels=8, max_elements=500)
    head = PixelHead(ppm=ppm, max_elements=500)
    feats = [(torch.randn(2, 8, 6, 6),) for _ in range(2)]
    assert head.fit_to_device(*feats) == 500
    assert head.ppm.max_elements == 500 and head._dense == {}


def test_dense_memory_share_must_be_a_share():
    with pytest.raises(ValueError, match='dense_memory_share must be in'):
        PixelHead(dense_memory_share=1.5)
