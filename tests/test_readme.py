"""The README names files that exist: a renamed tool or config is caught."""

import glob
import os
import re

from conftest import REPO

PATH = re.compile(
    r'(?<![\w/.:-])((?:tools|configs|mmpixpro|tests|demo|requirements)/'
    r'[\w./+-]*\w\.(?:py|sh|txt|yml|md))\b'
)
NAME = re.compile(r'`([\w.+-]+\.py)`')


def readme():
    with open(os.path.join(REPO, 'README.md')) as f:
        return f.read()


def test_every_path_in_the_readme_exists():
    paths = set(PATH.findall(readme()))
    assert 'tools/analysis/speed.py' in paths  # the pattern finds paths
    missing = sorted(p for p in paths if not os.path.exists(os.path.join(REPO, p)))
    assert missing == []


def test_every_file_name_in_the_readme_exists():
    names = set(NAME.findall(readme()))
    assert 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py' in names
    files = {'setup.py'} | {
        os.path.basename(f)
        for top in ('configs', 'tools', 'mmpixpro', 'tests')
        for f in glob.glob(os.path.join(REPO, top, '**', '*.py'), recursive=True)
    }
    assert sorted(names - files) == []
