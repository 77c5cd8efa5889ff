import subprocess
import sys
import textwrap

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


def test_register_all_modules_imports_every_location_a_registry_names():
    """mmengine calls ``mmpixpro.utils.register_all_modules`` (registries
    without ``locations``, ``mmengine.hub.get_model``); it imports the
    registry's ``LOCATIONS``: after it, no registry of ours imports anything
    more. Run in a fresh process, where nothing is imported yet."""
    code = textwrap.dedent(
        """
        import sys
        from mmengine.registry import Registry
        from mmpixpro import registry
        from mmpixpro.utils import register_all_modules
        assert 'mmpixpro.models' not in sys.modules
        register_all_modules(init_default_scope=False)
        before = {m for m in sys.modules if m.startswith('mmpixpro')}
        assert set(registry.LOCATIONS) <= before, before
        registries = [r for r in vars(registry).values() if isinstance(r, Registry)]
        for r in registries:
            r.import_from_location()
        after = {m for m in sys.modules if m.startswith('mmpixpro')}
        print(len(registries), sorted(after - before))
        """
    )
    out = subprocess.run(
        [sys.executable, '-c', code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(out[0]) > 20 and out[1:] == ['[]']
