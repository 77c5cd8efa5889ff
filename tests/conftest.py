"""Shared fixtures: the bundled photos, registries, tiny configs."""

import os
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PHOTOS = osp.join(REPO, 'demo', 'photos')
DEMO_CONFIG = osp.join(
    REPO, 'configs', 'selfsup', 'pixpro_r18_c5_1xb4-coslr-40e_demo.py'
)

# Keep the CPU test runs on the two cores without oversubscription.
os.environ.setdefault('OMP_NUM_THREADS', '2')


@pytest.fixture(scope='session', autouse=True)
def _register():
    from mmpixpro.utils import register_all_modules

    register_all_modules(init_default_scope=True)


@pytest.fixture
def photos_dir():
    return PHOTOS
