""".dev_scripts/pixpro_speed/memory: the pixel head, dense vs chunked."""

import json

from helpers import load_tool
from pixpro_speed.memory import CHUNKED_MAX_ELEMENTS, measure_head_modes


def test_chunked_pixel_part_peaks_lower_with_the_same_numbers(tmp_path):
    """At P3 of 320 px inputs, batch 2 (``[2, 1600, 1600]`` blocks: over the
    chunked mode's 2**22 elements, so it runs in chunks), on CPU: the
    chunked head grows the process by less than the dense one, with the
    same loss and gradients (the rows' setting, batch 16 at 448 px, is
    measured by the tool: 8 GiB dense)."""
    found = measure_head_modes('cpu', str(tmp_path), batch=2, side=40, repeats=1)
    assert found['elements'] == 2 * 1600 * 1600 > CHUNKED_MAX_ELEMENTS
    block = found['elements'] * 4  # bytes of one dense float block
    dense, chunked = found['dense'], found['chunked']
    assert dense['peak'] > 2 * block  # similarities, pairs, ... each a block
    assert 0 < chunked['peak'] < dense['peak'] - block
    assert found['max_diff'] <= 1e-5
    for entry in (dense, chunked):
        assert entry['first_s'] > 0 and entry['median_s'] > 0


def test_pixel_head_option_writes_its_report(tmp_path, capsys):
    """``speed.py --pixel-head`` (what the GPU check runs at 128 images, 224
    px): the JSON is the returned report, P3 of --size, both modes logged."""
    speed = load_tool('.dev_scripts/speed.py')
    out = tmp_path / 'pixel_head.json'
    argv = ['--pixel-head', '--device', 'cpu', '--batch', '1', '--size', '128']
    report = speed.main(argv + ['--steps', '1', '--json', str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    assert (report['level'], report['side'], report['batch']) == ('P3', 16, 1)
    assert report['elements'] == 1 * (16 * 16) ** 2
    assert report['max_diff'] <= 1e-5
    printed = capsys.readouterr().out
    for mode in ('dense', 'chunked'):
        assert report[mode]['peak'] > 0 and report[mode]['median_s'] > 0
        assert f'pixel head, {mode}: P3 16x16, batch 1' in printed
