"""mmpixpro.analysis.speed.level_pass: the FPN head's loop vs one pass."""

import math

from mmpixpro.analysis.speed import SpeedOptions
from mmpixpro.analysis.speed.level_pass import level_pass_rows


def test_block_diagonal_pass_gives_the_head_loss():
    lines = []
    lines_out, report = level_pass_rows(
        SpeedOptions(batch=2, size=64, steps=1), log=lines.append
    )
    row = report['level pass']
    assert row['loss_diff'] < 1e-5
    assert math.isfinite(row['loop']) and row['loop'] > 0
    assert math.isfinite(row['batched']) and row['batched'] > 0
    assert row['ratio'] == row['batched'] / row['loop']
    # P3-P6 of 64 px: 8x8, 4x4, 2x2, 1x1 cells side by side, squared
    assert row['batched_elements'] == 2 * (64 + 16 + 4 + 1) ** 2
    assert lines == lines_out
    assert (
        f'| {row["loop"]:.3f} | {row["batched"]:.3f} | {row["ratio"]:.3f} |'
        in (lines[0])
    )
