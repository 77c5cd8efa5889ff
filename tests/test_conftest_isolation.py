"""tests/conftest.py gives every test the default scope, message hub,
loggers and visualizers it started with, whatever the test before it left
current."""

from mmengine.logging import MessageHub, MMLogger
from mmengine.registry import DefaultScope
from mmengine.visualization import Visualizer

STARTED = {}


def test_a_test_that_leaves_an_mmdet_scope_and_a_hub_current():
    STARTED['scope'] = DefaultScope.get_current_instance().scope_name
    DefaultScope.get_instance('left_by_a_test', scope_name='mmdet')
    MessageHub.get_instance('left_by_a_test')
    MMLogger.get_instance('left_by_a_test')  # a Runner's: config name + second
    # mmdet's and mmseg's configs name theirs so: a later Runner would get
    # this one back, writing into this test's work dir
    from mmdet.visualization import DetLocalVisualizer

    DetLocalVisualizer.get_instance('visualizer', save_dir='left_by_a_test')
    assert DefaultScope.get_current_instance().scope_name == 'mmdet'


def test_the_next_test_starts_as_the_first_did():
    if not STARTED:  # run alone or first
        STARTED['scope'] = 'mmpixpro'
    assert DefaultScope.get_current_instance().scope_name == STARTED['scope']
    assert not DefaultScope.check_instance_created('left_by_a_test')
    assert not MessageHub.check_instance_created('left_by_a_test')
    assert not MMLogger.check_instance_created('left_by_a_test')
    from mmdet.visualization import DetLocalVisualizer

    for cls in (Visualizer, DetLocalVisualizer):
        assert not cls.check_instance_created('visualizer')
