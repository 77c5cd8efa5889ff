"""mmpixpro: PixPro pixel-level self-supervised pre-training for OpenMMLab 2.x."""

import os.path as osp

from setuptools import find_packages, setup


def read_version() -> str:
    namespace: dict = {}
    with open(osp.join(osp.dirname(__file__), 'mmpixpro', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


setup(
    name='mmpixpro',
    version=read_version(),
    description='PixPro (Propagate Yourself, CVPR 2021) pre-training for '
    'OpenMMLab 2.x: mmengine, mmpretrain, mmdet, mmsegmentation',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmpixpro', 'mmpixpro.*']),
    python_requires='>=3.8',
    license='Apache License 2.0',
)
