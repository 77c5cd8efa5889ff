"""One speed measurement: the chosen rows as a Markdown table and a report."""

import dataclasses
from typing import Callable, Optional

import torch

from .backbones import backbone_rows
from .matrix import step_matrix, write_json
from .memory import memory_rows, pixel_head_report
from .options import SpeedOptions
from .pipelines import pipeline_rows
from .revisions import payback_notes, revision_rows
from .steps import step_rows

HEADER = [
    '| measurement | baseline | PixPro / ours | ratio | target |',
    '|---|---|---|---|---|',
]


def measure_speed(
    options: SpeedOptions, log: Optional[Callable[[str], None]] = None
) -> dict:
    """Measure what ``options`` asks for (``options.matrix``: only the step
    matrix, :func:`~.matrix.step_matrix`; ``options.pixel_head``: only the
    dense vs chunked pixel head, :func:`~.memory.pixel_head_report`;
    ``options.backbones``: only Swin / ConvNeXt / ViT against R50 C5,
    :func:`~.backbones.backbone_rows`).

    Rows, in this order: steps (:mod:`.steps`), the steps against a
    revision (:mod:`.revisions`),
    pipelines (:mod:`.pipelines`), memory (:mod:`.memory`). Each row is
    passed to ``log`` once measured, then the whole table and notes (compile
    payback, the pipeline ratio's ceiling); ``None``: silent.

    Returns:
        The report: an entry per row (its numbers), as written to
        ``options.json``.
    """
    log = log or (lambda line: None)
    if options.device is None:
        options = dataclasses.replace(
            options, device='cuda' if torch.cuda.is_available() else 'cpu'
        )
    if options.matrix:
        return step_matrix(options, log)
    if options.pixel_head:
        report = pixel_head_report(options, log)
        write_json(report, options.json)
        return report
    if options.amp is None:
        options = dataclasses.replace(options, amp=options.device == 'cuda')
    if options.threads:
        torch.set_num_threads(options.threads)
    from mmpixpro.utils import register_all_modules

    register_all_modules()
    if options.backbones:
        return backbone_report(options, log)
    log(
        f'device {options.device}, threads {torch.get_num_threads()}, '
        f'ResNet-{options.depth}, '
        f'batch {options.batch} x 2 views, {options.size} px, amp {options.amp}, '
        f'median of {options.steps} steps, channels_last '
        f'{"as configured" if options.channels_last is None else options.channels_last}'
    )
    sections = [
        (not options.skip_steps, step_rows),
        (options.baseline, revision_rows),
        (not options.skip_pipelines, pipeline_rows),
        (not options.skip_memory, memory_rows),
    ]
    lines, report = list(HEADER), {}
    for wanted, rows in sections:
        if wanted:
            new_lines, entries = rows(options, log)
            lines += new_lines
            report.update(entries)
    log('\n' + '\n'.join(lines))
    for note in payback_notes(report):
        log(note)
    if 'pipeline ratio ceiling' in report:
        log(
            f'\nDecoding every image caps the pipeline ratio at '
            f'{report["pipeline ratio ceiling"]:.2f} '
            '(our decoding rate / the PIL pipeline rate, bundled photos).'
        )
    write_json(report, options.json)
    return report


def backbone_report(options: SpeedOptions, log: Callable[[str], None]) -> dict:
    """``--backbones``: the models' table (:mod:`.backbones`), then the whole
    table again; the report is written to ``options.json``."""
    name = torch.cuda.get_device_name() if options.device == 'cuda' else 'cpu'
    log(
        f'device {options.device} ({name}), threads {torch.get_num_threads()}, '
        f'batch {options.batch} x 2 views, {options.size} px, amp {options.amp}, '
        f'median of {options.steps} steps after 2 warm-up steps'
    )
    lines, report = backbone_rows(options, log)
    log('\n' + '\n'.join(lines))
    report.update(
        device=options.device,
        device_name=name,
        threads=torch.get_num_threads(),
        batch=options.batch,
        size=options.size,
        amp=options.amp,
        steps=options.steps,
    )
    write_json(report, options.json)
    return report
