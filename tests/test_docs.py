"""The documentation builds with no warning, as ``make docs`` builds it.

One Sphinx run (``-W``: any warning fails it) in a child process, so that
importing the package for the API page changes nothing in this one; the
pages it must produce are checked, and the API page must hold the docstrings
of the public classes.
"""

import os
import subprocess
import sys

import pytest
from conftest import REPO

pytest.importorskip('sphinx')
pytest.importorskip('myst_parser')


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp('docs')
    cmd = [
        sys.executable,
        '-m',
        'sphinx',
        '-W',
        '--keep-going',
        '-q',
        '-b',
        'dirhtml',
        '-j',
        '1',
        '-d',
        str(out / 'doctrees'),
        os.path.join(REPO, 'docs', 'en'),
        str(out / 'html'),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return proc, out / 'html'


def test_the_docs_build_without_warnings(built):
    proc, _ = built
    assert proc.returncode == 0, proc.stderr[-4000:]


@pytest.mark.parametrize(
    'page',
    [
        'index.html',
        'get_started/index.html',
        'model_zoo/index.html',
        'user_guides/pretrain/index.html',
        'user_guides/benchmarks/index.html',
        'notes/paper_readings/index.html',
        'notes/changelog/index.html',
        'api/index.html',
    ],
)
def test_the_pages_are_written(built, page):
    _, html = built
    assert (html / page).is_file()


def test_included_files_and_the_api_are_in_the_pages(built):
    _, html = built
    zoo = (html / 'model_zoo' / 'index.html').read_text()
    assert 'pixpro-t1.4_r50_c5_8xb128-coslr-100e_in1k.py' in zoo
    assert '58.8 / 40.8' in zoo
    log = (html / 'notes' / 'changelog' / 'index.html').read_text()
    assert 'Changelog' in log
    api = (html / 'api' / 'index.html').read_text()
    for name in (
        'models.algorithms.PixPro',
        'models.necks.PixelPropagationModule',
        'models.losses.PixProLoss',
        'datasets.ImageFolder',
        'apis.init_model',
    ):
        assert f'id="mmpixpro.{name}"' in api, name
    assert 'Propagate Yourself' in api  # PixPro's docstring
    assert (html / '_images' / 'demo_features.png').is_file()
