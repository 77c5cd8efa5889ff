"""The comparison as a figure: one bar group per benchmark.

Each panel is one benchmark and its first metric (AP, or mIoU); each bar one
pre-trained checkpoint, coloured the same in every panel, its height the
mean over runs with the standard deviation as an error bar and the number
of runs under it; Table 1's number, where the paper has one, is a black
mark across the bar. The value axis starts near the lowest value of the
panel, not at 0 (transfer results differ by a few points), and says so.
"""

import math
from typing import Dict, List, Sequence

# Okabe-Ito: distinguishable with the common colour-vision deficiencies
PALETTE = (
    '#0072B2',
    '#E69F00',
    '#009E73',
    '#D55E00',
    '#CC79A7',
    '#56B4E9',
    '#F0E442',
    '#000000',
)


def plot_comparison(rows: Sequence[dict], path: str, dpi: int = 200) -> None:
    """Draw :func:`~.compare_benchmarks.compare`'s rows into ``path`` (PNG,
    PDF or SVG, by its extension)."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    benchmarks: Dict[str, List[dict]] = {}
    for row in rows:
        benchmarks.setdefault(row['benchmark'], []).append(row)
    labels = list(dict.fromkeys(row['label'] for row in rows))
    colour = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}
    widest = max(len(group) for group in benchmarks.values())
    with plt.rc_context({'font.size': 8}):
        fig, axes = plt.subplots(
            1,
            len(benchmarks),
            figsize=(0.6 + len(benchmarks) * (0.9 + 0.42 * widest), 3.4),
            squeeze=False,
        )
        for ax, group in zip(axes[0], benchmarks.values()):
            _panel(ax, group, colour)
        handles = [Patch(color=colour[label], label=label) for label in labels]
        if any(row['paper'] for row in rows):
            handles.append(Line2D([], [], color='black', lw=2, label='paper (Table 1)'))
        columns = min(len(handles), 6)
        fig.legend(
            handles=handles,
            loc='lower center',
            ncol=columns,
            frameon=False,
            fontsize=8,
        )
        fig.tight_layout(
            rect=(0, 0.02 + 0.07 * math.ceil(len(handles) / columns), 1, 1)
        )
        fig.savefig(path, dpi=dpi)
    plt.close(fig)


def _panel(ax, group: Sequence[dict], colour: Dict[str, str]) -> None:
    """One benchmark: a bar per checkpoint, error bars, paper marks."""
    means = [row['mean'][0] for row in group]
    stds = [row['std'][0] or 0.0 for row in group]
    papers = [row['paper'][0] if row['paper'] else None for row in group]
    xs = list(range(len(group)))
    ax.bar(
        xs,
        means,
        width=0.72,
        color=[colour[row['label']] for row in group],
        yerr=stds,
        capsize=3,
        error_kw=dict(lw=0.9, ecolor='#333333'),
        zorder=2,
    )
    for x, paper in zip(xs, papers):
        if paper is not None:
            ax.plot([x - 0.36, x + 0.36], [paper, paper], color='black', lw=2, zorder=3)
    shown = [m - s for m, s in zip(means, stds)] + [p for p in papers if p is not None]
    top = [m + s for m, s in zip(means, stds)] + [p for p in papers if p is not None]
    span = max(max(top) - min(shown), 1.0)
    low = max(0.0, math.floor(min(shown) - 0.6 * span))
    ax.set_ylim(low, max(top) + 0.3 * span)
    for x, row, mean, std, paper in zip(xs, group, means, stds, papers):
        ax.text(
            x,
            max(mean + std, mean if paper is None else paper) + 0.03 * span,
            f'{mean:.1f}',
            ha='center',
            va='bottom',
            fontsize=7,
            zorder=4,
        )
        ax.text(
            x,
            low,
            f'n={len(row["runs"])}',
            ha='center',
            va='bottom',
            fontsize=6,
            color='white' if mean - low > 0.12 * span else '#333333',
            zorder=4,
        )
    ax.set_xticks([])
    ax.set_title(group[0]['title'], fontsize=8)
    ax.set_ylabel(f'{group[0]["metrics"][0]} (axis from {low:g})', fontsize=8)
    ax.grid(axis='y', color='#dddddd', lw=0.6, zorder=0)
    for side in ('top', 'right'):
        ax.spines[side].set_visible(False)
