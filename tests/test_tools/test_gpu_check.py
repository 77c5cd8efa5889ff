"""tools/analysis/gpu_check.sh without a GPU: it says so and exits 0."""

import json
import os
import subprocess
import sys

from conftest import REPO


def test_gpu_check_skips_cleanly_without_cuda(tmp_path):
    out = tmp_path / 'gpu'
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='', PY=sys.executable)
    result = subprocess.run(
        ['bash', os.path.join(REPO, 'tools/analysis/gpu_check.sh'), str(out)],
        env=env,
        capture_output=True,
        text=True,
        cwd=str(tmp_path),  # the script finds its checkout itself
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'no CUDA device visible; nothing measured' in result.stdout
    report = json.loads((out / 'gpu_check.json').read_text())
    assert report == {'skipped': 'no CUDA device visible'}
    # everything printed is in the log too
    assert 'no CUDA device visible' in (out / 'gpu_check.log').read_text()
    assert sorted(p.name for p in out.iterdir()) == ['gpu_check.json', 'gpu_check.log']
