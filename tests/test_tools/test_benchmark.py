"""The benchmark script runs end to end on a small setting."""

import json
import os
import subprocess
import sys

from conftest import REPO
from helpers import load_tool


def test_benchmark_reports_steps_and_pipelines(tmp_path):
    bench = load_tool('tools/analysis/benchmark.py')
    out = tmp_path / 'report.json'
    report = bench.main(
        [
            '--depth', '18', '--batch', '2', '--size', '64', '--steps', '1',
            '--pipeline-images', '6', '--skip-memory', '--threads', '2',
            '--compare-channels-last', '--compare-amp',
            '--json', str(out),
        ]
    )  # fmt: skip
    assert json.loads(out.read_text()).keys() == report.keys()
    for name in ('step C5', 'step FPN + head, P3-P6'):
        assert report[name]['plain'] > 0 and report[name]['pixpro'] > 0
    for name in ('channels_last C5', 'channels_last FPN + head, P3-P6'):
        assert report[name]['contiguous'] > 0 and report[name]['channels_last'] > 0
    for name in ('amp C5', 'amp FPN + head, P3-P6'):
        assert report[name]['fp32'] > 0 and report[name]['amp'] > 0
    for name in (
        'two-view pipeline',
        'decoding alone',
        'two-view pipeline, JPEG q90 copies',
        'decoding alone, JPEG q90 copies',
    ):
        assert report[name]['pil'] > 0 and report[name]['ours'] > 0
    assert report['pipeline ratio ceiling'] > report['two-view pipeline']['ratio']


def test_baseline_revision_steps_interleaved(tmp_path):
    """--baseline HEAD: the committed tree is exported (git archive) and
    stepped in its own process beside this tree's, same weights and batch:
    both report step times, and their losses agree (HEAD's code in a fresh
    clone is this tree's)."""
    bench = load_tool('tools/analysis/benchmark.py')
    report = bench.main(
        [
            '--depth', '18', '--batch', '2', '--size', '64', '--steps', '1',
            '--threads', '2', '--skip-steps', '--skip-pipelines',
            '--skip-memory', '--baseline', 'HEAD',
        ]
    )  # fmt: skip
    head = subprocess.run(
        ['git', '-C', REPO, 'rev-parse', 'HEAD'], capture_output=True, text=True
    ).stdout.strip()
    assert report['baseline'] == head
    for name in ('revision C5', 'revision FPN + head, P3-P6'):
        row = report[name]
        assert row['baseline'] > 0 and row['ours'] > 0
        assert row['ratio'] == row['ours'] / row['baseline']
        assert row['loss_diff'] < 1e-4, row
        # each side imported its own tree's package
        packages = row['packages']
        assert packages['ours'] == os.path.join(REPO, 'mmpixpro')
        assert packages['baseline'].endswith(os.path.join('baseline', 'mmpixpro'))


def test_matrix_writes_each_combination(tmp_path):
    """--matrix on CPU (what gpu_check.sh runs on a GPU): one process per
    combination, results and budget skips in the JSON."""
    bench = load_tool('tools/analysis/benchmark.py')
    out = tmp_path / 'matrix.json'
    report = bench.main(
        [
            '--matrix', '--device', 'cpu', '--depth', '18', '--batch', '2',
            '--size', '64', '--steps', '1', '--threads', '2',
            '--combos', '0,1,0', '1,0,0', '--budget', '0', '--json', str(out),
        ]
    )  # fmt: skip
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    first, second = report['results']
    assert (first['amp'], first['channels_last'], first['compile']) == (
        False,
        True,
        False,
    )
    # --budget 0: the first combination runs, none is expected to fit after it
    assert first['status'] == 'ok' and first['step_s'] > 0
    assert first['images_per_s'] == 2 / first['step_s']
    assert second['status'].startswith('skipped')


def test_gpu_check_skips_cleanly_without_cuda(tmp_path):
    out = tmp_path / 'gpu.json'
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='', PY=sys.executable)
    result = subprocess.run(
        ['bash', os.path.join(REPO, 'tools/analysis/gpu_check.sh'), str(out)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert 'no CUDA device' in result.stderr
    assert json.loads(out.read_text()) == {'skipped': 'no CUDA device visible'}
