"""Measurements of PixPro models: FLOPs, a linear probe of dense features.
(The speed and memory harness is development tooling: .dev_scripts/.)"""

from .dense_probe import dense_probe, format_table
from .flops import FlopReport, OnlinePass, format_report, pixpro_flops
from .linear_probe import evaluate, train_probe

__all__ = [
    'FlopReport',
    'OnlinePass',
    'dense_probe',
    'evaluate',
    'format_report',
    'format_table',
    'pixpro_flops',
    'train_probe',
]
