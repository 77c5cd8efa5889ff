"""tools/misc/make_wheelhouse.sh and `tools/install.sh` with WHEELHOUSE: a
fresh environment beside an already installed torch, installed with
--no-index, imports the stack and pre-trains.

Minutes of downloads and installs, so it runs only when asked, outside
`make test`'s time budget::

    MMPIXPRO_WHEELHOUSE_TEST=1 .venv/bin/python -m pytest \
        tests/test_tools/test_wheelhouse.py

``MMPIXPRO_WHEELHOUSE=DIR`` uses a wheelhouse made before (else one is made
in a temporary folder, for this interpreter's Python and torch).
"""

import json
import os
import os.path as osp
import subprocess
import sys
import time

import pytest
from conftest import DEMO_CONFIG, REPO

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get('MMPIXPRO_WHEELHOUSE_TEST') != '1',
        reason='downloads and installs for minutes: MMPIXPRO_WHEELHOUSE_TEST=1',
    ),
]


def run(cmd, env, timeout=1800, **kwargs):
    result = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=timeout, **kwargs
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


def test_wheelhouse_installs_offline_beside_the_nodes_torch(tmp_path):
    import torch
    import torchvision

    timings = {}
    python = '%d.%d' % sys.version_info[:2]
    torch_version = torch.__version__.split('+')[0]
    torchvision_version = torchvision.__version__.split('+')[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith('PYTHON')}
    env.pop('VIRTUAL_ENV', None)
    wheelhouse = os.environ.get('MMPIXPRO_WHEELHOUSE')
    if not wheelhouse:
        wheelhouse = str(tmp_path / 'wheelhouse')
        start = time.perf_counter()
        run(
            ['bash', osp.join(REPO, 'tools/misc/make_wheelhouse.sh'), wheelhouse]
            + ['--python', python, '--torch', torch_version],
            env,
        )
        timings['make_wheelhouse_s'] = time.perf_counter() - start
    made = json.load(open(osp.join(wheelhouse, 'wheelhouse.json')))
    assert (made['python'], made['torch']) == (python, torch_version)
    names = ' '.join(made['files'])
    for package in ('mmengine', 'mmdet', 'mmsegmentation', 'mmpretrain', 'openmim'):
        assert f'{package}-' in names, package
    assert 'src/mmcv-2.1.0.tar.gz' in made['files']
    assert not any(n.startswith(('torch-', 'torchvision-')) for n in made['files'])

    # The node: an interpreter with torch installed outside any project
    # environment (here a user site of this machine's Python).
    base = sys._base_executable
    node = dict(env, PYTHONUSERBASE=str(tmp_path / 'node'))
    start = time.perf_counter()
    run(
        [base, '-m', 'pip', 'install', '-q', '--user']
        + [f'torch=={torch_version}', f'torchvision=={torchvision_version}'],
        node,
    )
    timings['node_torch_s'] = time.perf_counter() - start

    venv = tmp_path / 'venv'
    offline = dict(node, VENV=str(venv), PYTHON=base, WHEELHOUSE=wheelhouse)
    offline['MMPIXPRO_CACHE'] = str(tmp_path / 'no-cache')  # the wheelhouse's mmcv
    offline['PIP_INDEX_URL'] = 'http://127.0.0.1:9/unreachable'  # --no-index anyway
    start = time.perf_counter()
    printed = run(['bash', osp.join(REPO, 'tools/install.sh')], offline)
    timings['install_s'] = time.perf_counter() - start
    assert 'installing from the wheelhouse' in printed
    assert "the node's torch" in printed and 'using:' in printed
    py = str(venv / 'bin' / 'python')
    where = run([py, '-c', 'import torch; print(torch.__file__)'], offline)
    assert where.startswith(str(tmp_path / 'node'))  # the node's, not the venv's
    # a second run is a no-op that keeps the wheelhouse
    again = run(
        ['bash', osp.join(REPO, 'tools/install.sh')], dict(offline, WHEELHOUSE='')
    )
    assert f'up to date (from the wheelhouse {wheelhouse})' in again

    # import and train: the demo config, one epoch (3 iterations) at 64 px
    start = time.perf_counter()
    work_dir = tmp_path / 'train'
    options = [
        'train_cfg.max_epochs=1',
        'train_dataloader.dataset.pipeline.1.transforms.0.0.scale=64',
        'train_dataloader.dataset.pipeline.1.transforms.1.0.scale=64',
        'default_hooks.logger.interval=1',
    ]
    run(
        [py, osp.join(REPO, 'tools/train.py'), DEMO_CONFIG, '--work-dir', str(work_dir)]
        + ['--cfg-options', *options],
        offline,
        cwd=REPO,
    )
    timings['train_s'] = time.perf_counter() - start
    assert (work_dir / 'epoch_1.pth').is_file()
    size = sum(made['files'].values())
    print(json.dumps(dict(timings, wheelhouse_mib=size / 2**20)))
