"""Two gloo processes fine-tune through tools/benchmarks/dist_benchmark.sh:
rank 0 writes ``transfer_report.json``, the other rank never opens it (a
test-only hook makes that an error on rank 1)."""

import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
from conftest import REPO
from helpers import FCOS, toy_benchmark_config
from mmengine.config import Config

HERE = osp.dirname(osp.abspath(__file__))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_only_rank_zero_writes_the_transfer_report(demo_checkpoint, tmp_path):
    cfg = Config.fromfile(toy_benchmark_config(FCOS, tmp_path, train_only=True))
    cfg.custom_imports.imports.append('report_writers')
    cfg.custom_hooks.append(dict(type='OnlyRankZeroWritesTheReport'))
    config = str(tmp_path / 'fcos_2proc.py')
    cfg.dump(config)
    work_dir = tmp_path / 'work'
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()))
    env['OMP_NUM_THREADS'] = '1'
    env['PYTHONPATH'] = os.pathsep.join(filter(None, [HERE, env.get('PYTHONPATH')]))
    result = subprocess.run(
        ['bash', 'tools/benchmarks/dist_benchmark.sh', config, demo_checkpoint, '2',
         '--work-dir', str(work_dir)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert (work_dir / 'guarded_rank1').is_file()  # rank 1 ran, guarded
    with open(work_dir / 'transfer_report.json') as f:
        report = json.load(f)
    assert report['checkpoint'] == osp.abspath(demo_checkpoint)
    assert report['modules']['backbone']['loaded']
