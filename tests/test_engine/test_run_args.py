"""The launcher's choice of the pixel head's bound (``pixel_max_elements``):
by device type, never by free memory; given values win."""

import argparse

import pytest
import torch
from conftest import DEMO_CONFIG
from mmengine.config import Config

from mmpixpro.engine.run_args import add_run_args, merge_run_args, use_device_bound


def launch(*argv):
    parser = add_run_args(argparse.ArgumentParser())
    parser.add_argument('config')
    args = parser.parse_args([DEMO_CONFIG, '--work-dir', 'unused', *argv])
    return merge_run_args(Config.fromfile(DEMO_CONFIG), args)


def test_the_configs_carry_a_bound_per_device_type():
    cfg = Config.fromfile(DEMO_CONFIG)
    assert cfg.pixel_max_elements == dict(cuda=1 << 27, cpu=1 << 22)
    assert 'max_elements' not in cfg.model.head
    for device, bound in cfg.pixel_max_elements.items():
        picked = Config.fromfile(DEMO_CONFIG)
        use_device_bound(picked, device)
        assert picked.model.head.max_elements == bound


def test_the_launcher_picks_the_entry_of_this_machine():
    """``cuda`` with a GPU visible, else ``cpu``: the entry is in the config
    the Runner gets (and dumps to the work dir)."""
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    cfg = launch()
    assert cfg.model.head.max_elements == cfg.pixel_max_elements[device]


@pytest.mark.parametrize('value, bound', [('None', None), ('1000', 1000)])
def test_a_given_bound_wins(value, bound):
    cfg = launch('--cfg-options', f'model.head.max_elements={value}')
    assert cfg.model.head.max_elements == bound


def test_a_missing_device_entry_is_named():
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.pixel_max_elements = dict(cuda=1 << 27)
    with pytest.raises(KeyError, match="no entry for 'cpu'"):
        use_device_bound(cfg, 'cpu')


def test_models_without_a_pixel_head_are_left_alone():
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.model.head = None
    use_device_bound(cfg, 'cpu')
    assert cfg.model.head is None
