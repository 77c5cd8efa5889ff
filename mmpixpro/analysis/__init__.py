"""Measurements of PixPro models (FLOPs)."""

from .flops import FlopReport, OnlinePass, format_report, pixpro_flops

__all__ = ['FlopReport', 'OnlinePass', 'format_report', 'pixpro_flops']
