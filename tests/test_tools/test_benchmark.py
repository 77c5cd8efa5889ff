"""The benchmark script runs end to end on a small setting."""

import json

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
