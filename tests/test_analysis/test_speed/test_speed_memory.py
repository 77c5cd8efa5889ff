"""mmpixpro.analysis.speed.memory: peak of the PixPro part, dense vs bounded."""

from mmpixpro.analysis.speed.memory import measure_memory


def test_bounded_pixel_part_peaks_lower_with_the_same_numbers(tmp_path):
    """At P3 of 320 px inputs, batch 2 (``[2, 1600, 1600]`` blocks: over the
    bounded default's 2**22 elements, so it runs in chunks), on CPU: the
    bounded head grows the process by less than the dense one, with the
    same loss and gradients (the rows' setting, batch 16 at 448 px, is
    measured by the tool: 8 GiB dense)."""
    dense, bounded, diff = measure_memory('cpu', str(tmp_path), batch=2, side=40)
    block = 2 * 1600 * 1600 * 4  # bytes of one dense float block
    assert dense > 2 * block  # similarities, pairs, ... each a block
    assert 0 < bounded < dense - block
    assert diff <= 1e-5
