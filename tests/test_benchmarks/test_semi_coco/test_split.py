"""mmpixpro.benchmarks.semi_coco.split: the size checks of the draw (the
splits themselves: tests/test_tools/test_split_coco.py)."""

import pytest

from mmpixpro.benchmarks.semi_coco.split import check_counts, num_labelled


def test_more_images_than_exist():
    # The check itself: a count above the number of images is refused, naming
    # the file; a count equal to it is allowed.
    with pytest.raises(ValueError, match='has only 3'):
        check_counts('x.json', 3, [200.0])
    check_counts('x.json', 3, [99.0])
    assert num_labelled(200, 0.1) == 1
    assert num_labelled(200, 10) == 20
