"""The speed tool (.dev_scripts/speed.py)."""

import json
import math

import pytest
from conftest import REPO
from helpers import load_tool
from pixpro_speed.models import STEP_CONFIGS, config_in, step_config
from pixpro_speed.options import REPO as SPEED_REPO

PIPELINES = (
    'two-view pipeline',
    'decoding alone',
    'two-view pipeline, JPEG q90 copies',
    'decoding alone, JPEG q90 copies',
)


def last_table(text):
    """Rows of the last Markdown table printed: first cell -> other cells."""
    lines = text.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith('| measurement'))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith('|'):
            break
        cells = [c.strip() for c in line.strip('|').split('|')]
        rows[cells[0]] = cells[1:]
    return rows


def positive(*times):
    return all(math.isfinite(t) and t > 0 for t in times)


def test_speed_reports_steps_and_pipelines(tmp_path, capsys):
    """Every measurement has its row; each row's numbers are the report's
    (the JSON), its ratio their quotient; times and rates finite, positive."""
    speed = load_tool('.dev_scripts/speed.py')
    out = tmp_path / 'report.json'
    report = speed.main(
        [
            '--depth', '18', '--batch', '2', '--size', '64', '--steps', '1',
            '--pipeline-images', '6', '--skip-memory', '--threads', '2',
            '--compare-channels-last', '--compare-amp',
            '--json', str(out),
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out
    rows = last_table(printed)
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    assert SPEED_REPO == REPO  # the tree measured is this checkout
    expected = []
    for name in STEP_CONFIGS:
        expected += [
            f'step, {name} (s)',
            f'PixPro step, {name}: contiguous vs channels_last (s)',
            f'PixPro step, {name}: fp32 vs bf16 autocast (s)',
        ]
    expected += [f'{name} (img/s, 1 process, 1 thread)' for name in PIPELINES]
    assert list(rows) == expected
    for row in expected:  # printed once measured, then in the table
        assert printed.count(f'| {row} |') == 2, row
    assert set(report) == {
        f'{kind} {name}'
        for kind in ('step', 'channels_last', 'amp')
        for name in STEP_CONFIGS
    } | set(PIPELINES) | {'pipeline ratio ceiling'}

    for name, configs in STEP_CONFIGS.items():
        step = report[f'step {name}']
        plain, pixpro = step['plain'], step['pixpro']
        assert positive(plain, pixpro)
        assert step['ratio'] == pixpro / plain
        assert rows[f'step, {name} (s)'][:3] == [
            f'{plain:.3f}',
            f'{pixpro:.3f} ({2 * 2 / pixpro:.1f} img/s)',
            f'{step["ratio"]:.3f}',
        ]
        # PixPro's own step is the switched rows' configured side: the
        # config's memory format, fp32 (no --amp on CPU)
        fmt = step_config(config_in(REPO, configs), 18).model
        switched = [  # report key, row label, PixPro has it on
            ('channels_last', 'contiguous vs channels_last', fmt.channels_last),
            ('amp', 'fp32 vs bf16 autocast', False),
        ]
        for kind, label, pixpro_on in switched:
            entry = report[f'{kind} {name}']
            off, on = label.split(' vs ')[0], kind
            assert entry[on if pixpro_on else off] == pixpro
            assert positive(entry[off], entry[on])
            assert entry['ratio'] == entry[on] / entry[off]
            assert rows[f'PixPro step, {name}: {label} (s)'][:3] == [
                f'{entry[off]:.3f}',
                f'{entry[on]:.3f}',
                f'{entry["ratio"]:.3f}',
            ]
    for name in PIPELINES:
        entry = report[name]
        assert positive(entry['pil'], entry['ours'])
        assert entry['ratio'] == entry['ours'] / entry['pil']
        assert rows[f'{name} (img/s, 1 process, 1 thread)'][:3] == [
            f'{entry["pil"]:.1f}',
            f'{entry["ours"]:.1f}',
            f'{entry["ratio"]:.2f}',
        ]
    ceiling = report['pipeline ratio ceiling']
    assert (
        ceiling == report['decoding alone']['ours'] / report['two-view pipeline']['pil']
    )
    assert ceiling > report['two-view pipeline']['ratio']
    assert f'caps the pipeline ratio at {ceiling:.2f}' in printed


def test_compile_needs_baseline():
    speed = load_tool('.dev_scripts/speed.py')
    with pytest.raises(SystemExit) as exit_info:
        speed.main(['--compile'])
    assert exit_info.value.code == 2
