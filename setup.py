"""mmpixpro: PixPro pixel-level self-supervised pre-training for OpenMMLab 2.x.

Installs as an OpenMMLab package (as mmpretrain / mmdet do): dependencies are
the ranges of ``requirements/runtime.txt`` (extras: ``optional``, ``tests``,
``mim``, ``docs``, ``all``), and the configs, tools and model index travel
inside the package as ``mmpixpro/.mim/`` (symbolic links to ``configs/``,
``tools/`` and ``model-index.yml`` in the repository, copied into wheels and
sdists), where ``mim`` and mmengine's ``mmpixpro::`` config prefix look for
them.
"""

import os.path as osp
import re
from typing import List

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_version() -> str:
    namespace: dict = {}
    with open(osp.join(HERE, 'mmpixpro', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def parse_requirements(name: str) -> List[str]:
    """Requirement lines of ``requirements/<name>``, comments dropped.

    ``-r other.txt`` lines are followed.
    """
    requirements = []
    with open(osp.join(HERE, 'requirements', name)) as f:
        for line in f:
            line = re.sub(r'(^|\s)#.*$', '', line).strip()
            if not line:
                continue
            if line.startswith('-r '):
                requirements += parse_requirements(line.split(maxsplit=1)[1])
            else:
                requirements.append(line)
    return requirements


def read_readme() -> str:
    path = osp.join(HERE, 'README.md')
    if not osp.exists(path):
        return ''
    with open(path, encoding='utf-8') as f:
        return f.read()


extras = {
    'optional': parse_requirements('optional.txt'),
    'tests': parse_requirements('tests.txt'),
    'mim': parse_requirements('mminstall.txt'),
    'docs': parse_requirements('docs.txt'),
}
extras['all'] = sorted(set(sum(extras.values(), parse_requirements('runtime.txt'))))

setup(
    name='mmpixpro',
    version=read_version(),
    description='PixPro (Propagate Yourself, CVPR 2021) pre-training for '
    'OpenMMLab 2.x: mmengine, mmpretrain, mmdet, mmsegmentation',
    long_description=read_readme(),
    long_description_content_type='text/markdown',
    keywords='self-supervised learning, dense representation, PixPro, OpenMMLab',
    packages=find_packages(include=['mmpixpro', 'mmpixpro.*']),
    # mmpixpro/.mim/** is listed in MANIFEST.in
    include_package_data=True,
    python_requires='>=3.8',
    install_requires=parse_requirements('runtime.txt'),
    extras_require=extras,
    license='Apache License 2.0',
    zip_safe=False,
)
