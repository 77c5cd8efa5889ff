"""mmpixpro.analysis.dense_probe: its two long loops show a progress bar and
give what they give without one."""

import torch
from conftest import DEMO_CONFIG

from mmpixpro.analysis.dense_probe import extract, read_split
from mmpixpro.analysis.probe_data import find_pairs, load_split
from mmpixpro.apis import init_model
from mmpixpro.testing import toy_data


def test_reading_and_extracting_show_progress(tmp_path, capsys):
    root = toy_data.make_cityscapes(str(tmp_path), splits={'train': 3})
    pairs = find_pairs(root, 'train')

    images, labels = read_split(pairs, (64, 128), 19, progress=True)
    shown = capsys.readouterr().out
    assert '3/3' in shown and 'task/s' in shown  # mmengine's bar, completed
    expected_images, expected_labels = load_split(pairs, (64, 128), 19)
    assert all((a == b).all() for a, b in zip(images, expected_images))
    assert len(images) == 3 and torch.equal(labels, expected_labels)

    model = init_model(DEMO_CONFIG, None)
    feats = extract(model, images, 'C5', batch_size=2, progress=True)
    shown = capsys.readouterr().out
    assert '3/3' in shown
    assert feats.shape == (3, 512, 2, 4)  # ResNet-18 C5 of 64 x 128
    assert torch.equal(feats, extract(model, images, 'C5', batch_size=2))
    assert capsys.readouterr().out == ''  # silent without progress
