""".dev_scripts/pixpro_speed/revisions: this tree's step against a revision."""

import os
import subprocess

from conftest import REPO
from pixpro_speed import SpeedOptions, measure_speed


def test_baseline_revision_steps_interleaved():
    """baseline HEAD: the committed tree is exported (git archive) and
    stepped in its own process beside this tree's, same weights and batch:
    both report step times, and their losses agree (HEAD's code in a fresh
    clone is this tree's)."""
    lines = []
    options = SpeedOptions(
        depth=18,
        batch=2,
        size=64,
        steps=1,
        threads=2,
        device='cpu',
        skip_steps=True,
        skip_pipelines=True,
        skip_memory=True,
        baseline='HEAD',
    )
    report = measure_speed(options, log=lines.append)
    head = subprocess.run(
        ['git', '-C', REPO, 'rev-parse', 'HEAD'], capture_output=True, text=True
    ).stdout.strip()
    assert report['baseline'] == head
    for name in ('revision C5', 'revision FPN + head, P3-P6'):
        row = report[name]
        assert row['baseline'] > 0 and row['ours'] > 0
        assert row['ratio'] == row['ours'] / row['baseline']
        assert row['loss_diff'] < 1e-4, row
        assert [len(t) for t in row['times'].values()] == [1, 1]
        # each side imported its own tree's package
        packages = row['packages']
        assert packages['ours'] == os.path.join(REPO, 'mmpixpro')
        assert packages['baseline'].endswith(os.path.join('baseline', 'mmpixpro'))
        line = (
            f'| step vs {head[:7]}, {name[9:]} (s) | {row["baseline"]:.3f} | '
            f'{row["ours"]:.3f} | {row["ratio"]:.3f} | C5 <= 0.85, FPN <= 1 |'
        )
        assert line in lines[-1].splitlines()  # the table
