import itertools
import math

import pytest
import torch

from mmpixpro.models import pixel_pair_mask
from mmpixpro.models.utils import PixelPairs, feature_cell_centres


def boxes(*rows):
    return torch.tensor(rows, dtype=torch.float32)


def brute_force_mask(c1, c2, shape1, shape2, threshold):
    """The pair rule written out cell by cell from the paper's definition."""
    n = c1.shape[0]
    (h1, w1), (h2, w2) = shape1, shape2
    out = torch.zeros(n, h1 * w1, h2 * w2, dtype=torch.bool)
    for b in range(n):
        x1a, y1a, x2a, y2a = c1[b].tolist()
        x1b, y1b, x2b, y2b = c2[b].tolist()
        bwa, bha = (x2a - x1a) / w1, (y2a - y1a) / h1
        bwb, bhb = (x2b - x1b) / w2, (y2b - y1b) / h2
        diag = max(math.hypot(bwa, bha), math.hypot(bwb, bhb))
        for (ra, ca), (rb, cb) in itertools.product(
            itertools.product(range(h1), range(w1)),
            itertools.product(range(h2), range(w2)),
        ):
            xa, ya = x1a + (ca + 0.5) * bwa, y1a + (ra + 0.5) * bha
            xb, yb = x1b + (cb + 0.5) * bwb, y1b + (rb + 0.5) * bhb
            out[b, ra * w1 + ca, rb * w2 + cb] = (
                math.hypot(xa - xb, ya - yb) / diag < threshold
            )
    return out


def test_identical_views_give_the_diagonal():
    c = boxes([0, 0, 1, 1])
    mask = pixel_pair_mask(c, c, (2, 2), (2, 2))
    # Neighbours are 0.5 apart, the bin diagonal is sqrt(0.5): 0.707 > 0.7.
    assert mask.shape == (1, 4, 4)
    assert torch.equal(mask[0], torch.eye(4, dtype=torch.bool))


def test_threshold_is_strict_and_moves_the_boundary():
    c = boxes([0, 0, 1, 1])
    # Horizontal / vertical neighbours sit at exactly 1/sqrt(2) = 0.7071.
    wide = pixel_pair_mask(c, c, (2, 2), (2, 2), threshold=0.71)[0]
    expected = torch.tensor(
        [[1, 1, 1, 0], [1, 1, 0, 1], [1, 0, 1, 1], [0, 1, 1, 1]]
    ).bool()
    assert torch.equal(wide, expected)
    assert torch.equal(
        pixel_pair_mask(c, c, (2, 2), (2, 2), threshold=0.70)[0],
        torch.eye(4, dtype=torch.bool),
    )
    # The diagonal neighbour (distance 1.0) joins above 1.
    assert pixel_pair_mask(c, c, (2, 2), (2, 2), threshold=1.01).all()


def test_disjoint_crops_have_no_pair():
    mask = pixel_pair_mask(
        boxes([0, 0, 0.4, 0.4]), boxes([0.6, 0.6, 1, 1]), (3, 3), (3, 3)
    )
    assert not mask.any()


def test_flipped_view_pairs_mirrored_columns():
    c1 = boxes([0, 0, 1, 1])
    c2 = boxes([1, 0, 0, 1])  # the same crop, flipped: x1 and x2 swapped
    mask = pixel_pair_mask(c1, c2, (2, 2), (2, 2))[0]
    expected = torch.tensor(
        [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]
    ).bool()
    assert torch.equal(mask, expected)


def test_different_feature_sizes():
    c = boxes([0, 0, 1, 1])
    # 1x1 centre (0.5, 0.5), diag sqrt(2); 2x2 centres 0.3536 away.
    # Normalised by the larger diagonal: 0.25.
    mask = pixel_pair_mask(c, c, (1, 1), (2, 2))
    assert mask.shape == (1, 1, 4) and mask.all()
    assert not pixel_pair_mask(c, c, (1, 1), (2, 2), threshold=0.24).any()
    assert pixel_pair_mask(c, c, (1, 1), (2, 2), threshold=0.26).all()


def test_matches_the_definition_on_random_boxes():
    torch.manual_seed(0)
    n = 6
    xy = torch.rand(n, 2, 2) * 0.5
    wh = torch.rand(n, 2, 2) * 0.5 + 0.1
    c = torch.cat([xy, xy + wh], dim=-1)  # [n, 2 views, 4]
    flip = torch.rand(n, 2) < 0.5
    c[flip] = c[flip][:, [2, 1, 0, 3]]
    for shape1, shape2, t in [
        ((7, 7), (7, 7), 0.7),
        ((3, 5), (4, 2), 0.7),
        ((7, 7), (7, 7), 1.5),
        ((2, 2), (6, 6), 0.3),
    ]:
        got = pixel_pair_mask(c[:, 0], c[:, 1], shape1, shape2, t)
        want = brute_force_mask(c[:, 0], c[:, 1], shape1, shape2, t)
        assert torch.equal(got, want), (shape1, shape2, t)


def test_cell_order_is_row_major():
    centres, diag = feature_cell_centres(boxes([0, 0, 1, 2]), (2, 3))
    assert torch.allclose(centres[0, 1], torch.tensor([0.5, 0.5]))
    assert torch.allclose(centres[0, 3], torch.tensor([1 / 6, 1.5]))
    assert torch.allclose(diag, torch.tensor([math.hypot(1 / 3, 1.0)]))


@pytest.mark.parametrize('threshold', [0, -0.5])
def test_bad_threshold(threshold):
    c = boxes([0, 0, 1, 1])
    with pytest.raises(ValueError, match='threshold'):
        pixel_pair_mask(c, c, (2, 2), (2, 2), threshold)


def test_bad_coords_shape():
    with pytest.raises(ValueError, match=r'\[N, 4\]'):
        pixel_pair_mask(torch.zeros(2, 3), torch.zeros(2, 3), (2, 2), (2, 2))


@pytest.mark.parametrize('max_elements', [None, 1, 40, 10**6])
def test_rule_gives_any_rows_the_transpose_and_counts_in_chunks(max_elements):
    """``PixelPairs``, which the chunked losses walk row by row: its blocks
    are the rows of the whole mask, its transpose the rule from view 2, and
    its pair count per image is the mask's for any chunk bound."""
    torch.manual_seed(0)
    xy = torch.rand(3, 2, 2) * 0.4
    c = torch.cat([xy, xy + 0.5], dim=-1)
    c1, c2 = c[:, 0], c[:, 1]
    c2[1] = c2[1][[2, 1, 0, 3]]  # a flipped view
    mask = pixel_pair_mask(c1, c2, (4, 5), (3, 3), 0.7)
    pairs = PixelPairs(c1, c2, (4, 5), (3, 3), 0.7)
    assert pairs.shape == (3, 20, 9)
    assert torch.equal(pairs.rows(), mask)
    assert torch.equal(pairs.rows(slice(7, 13)), mask[:, 7:13])
    assert torch.equal(pairs.transposed().rows(), mask.transpose(1, 2))
    assert torch.equal(pairs.count(max_elements), mask.sum(dim=(1, 2)).float())
    assert mask.any() and not mask.all()
