import pytest
from mmengine import DefaultScope

from mmpixpro.registry import MODELS
from mmpixpro.utils import register_all_modules


def test_scope_comes_back_after_a_downstream_runner_created_its_own():
    register_all_modules()
    assert DefaultScope.get_current_instance().scope_name == 'mmpixpro'
    # what an mmdet Runner does when it starts
    DefaultScope.get_instance('mmdet-runner-in-this-process', scope_name='mmdet')
    assert DefaultScope.get_current_instance().scope_name == 'mmdet'
    with pytest.warns(UserWarning, match='mmdet'):
        register_all_modules()
    assert DefaultScope.get_current_instance().scope_name == 'mmpixpro'
    # and PixPro's own classes build by their plain names again
    assert MODELS.get('PixelPropagationModule') is not None
    register_all_modules()  # already current: nothing new
    assert DefaultScope.get_current_instance().scope_name == 'mmpixpro'
