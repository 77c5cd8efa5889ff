"""The pixel head's bound on its blocks (``max_elements``) is a setting of the
run: given by the config, bounding the PPM too, recorded in the checkpoint
and taken back from it on load."""

import logging

import pytest
from mmengine.logging import MMLogger

from mmpixpro.engine.checkpoint_checks import state_dict_mismatches
from mmpixpro.models import PixelHead

PPM = dict(type='PixelPropagationModule', in_channels=8)


class Records(logging.Handler):
    """The messages mmengine's current logger emits while it is attached."""

    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())

    def __enter__(self):
        MMLogger.get_current_instance().addHandler(self)
        return self

    def __exit__(self, *exc):
        MMLogger.get_current_instance().removeHandler(self)


@pytest.mark.parametrize('bound', [None, 500])
def test_the_bound_is_in_the_state_and_comes_back_from_a_checkpoint(bound):
    head = PixelHead(ppm=PPM, max_elements=bound)
    state = head.state_dict()
    assert int(state['_extra_state']) == (-1 if bound is None else bound)
    other = PixelHead(ppm=PPM, max_elements=12345)
    with Records() as records:
        missing, unexpected = other.load_state_dict(state)
    assert missing == [] and unexpected == []
    assert other.max_elements == bound and other.ppm.max_elements == bound
    line = [m for m in records.messages if 'from the checkpoint' in m]
    assert line == [
        f'PixelHead: max_elements={bound} from the checkpoint replaces '
        'max_elements=12345 of this launch: a run keeps the bound it started with'
    ]
    with Records() as records:  # the same bound: nothing to say
        other.load_state_dict(state)
    assert records.messages == []


def test_a_checkpoint_without_the_bound_keeps_the_configured_one():
    head = PixelHead(ppm=PPM, max_elements=500)
    state = {k: v for k, v in head.state_dict().items() if k != '_extra_state'}
    other = PixelHead(ppm=PPM, max_elements=77)
    missing, unexpected = other.load_state_dict(state, strict=True)
    assert missing == [] and unexpected == []
    assert other.max_elements == 77 and other.ppm.max_elements == 77
    # the strict load_from check of FaultTolerantRunner agrees: it fits
    assert state_dict_mismatches(other, state) == ''
    del state['ppm.transform.weight']
    assert state_dict_mismatches(other, state).startswith(
        '1 missing: ppm.transform.weight'
    )


def test_the_head_bounds_its_ppm():
    assert PixelHead(ppm=PPM, max_elements=None).ppm.max_elements is None
    assert PixelHead(ppm=PPM).ppm.max_elements == 1 << 22
    with pytest.raises(ValueError, match="head's max_elements, not as ppm"):
        PixelHead(ppm=dict(PPM, max_elements=10))


@pytest.mark.parametrize('bad', [0, -5, 2.5, True, dict(cpu=1, cuda=None)])
def test_a_bound_is_a_positive_int_or_none(bad):
    with pytest.raises(ValueError, match='picked by tools/train.py'):
        PixelHead(ppm=PPM, max_elements=bad)
