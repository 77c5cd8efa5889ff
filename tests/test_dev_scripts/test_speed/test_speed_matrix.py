""".dev_scripts/pixpro_speed/matrix: AMP / channels_last / compile on and off."""

import argparse
import json

import pytest
from pixpro_speed import (
    ALL_COMBOS,
    SpeedOptions,
    measure_speed,
    parse_combo,
)


def test_matrix_writes_each_combination(tmp_path):
    """The matrix on CPU (what gpu_check.sh runs on a GPU): one process per
    combination, results and budget skips in the JSON."""
    out = tmp_path / 'matrix.json'
    logged = []
    options = SpeedOptions(
        matrix=True,
        device='cpu',
        depth=18,
        batch=2,
        size=64,
        steps=1,
        threads=2,
        combos=[parse_combo('0,1,0'), parse_combo('1,0,0')],
        budget=0,
        json=str(out),
    )
    report = measure_speed(options, log=logged.append)
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    first, second = report['results']
    assert (first['amp'], first['channels_last'], first['compile']) == (
        False,
        True,
        False,
    )
    # budget 0: the first combination runs, none is expected to fit after it
    assert first['status'] == 'ok' and first['step_s'] > 0
    assert first['images_per_s'] == 2 / first['step_s']
    assert second['status'].startswith('skipped')
    assert [json.loads(line) for line in logged] == [first]


def test_combos_parse_and_order():
    assert parse_combo('1,1,0') == (True, True, False)
    for bad in ('1,1', '1,2,0'):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_combo(bad)
    # all eight, the configs' GPU setting first, compiled ones last
    assert len(set(ALL_COMBOS)) == 8
    assert ALL_COMBOS[0] == (True, True, False)
    assert [c[2] for c in ALL_COMBOS] == [False] * 4 + [True] * 4
