"""mmpixpro.analysis.probe_data: the labels of a Cityscapes-layout split."""

import torch

from mmpixpro.analysis.probe_data import downsample_labels


def test_labels_downsampled_at_cell_centres():
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    labels[:, :4] = 255
    labels[:, 4:, 4:] = 13
    labels[:, 0, 0] = 7  # a top-left pixel: not a cell centre
    small = downsample_labels(labels, (2, 2))
    assert small.tolist() == [[[255, 255], [0, 13]]]
