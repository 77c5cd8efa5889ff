"""mmpixpro.benchmarks.semi_coco.aggregate: run names (the aggregate itself:
tests/test_tools/test_aggregate_folds.py)."""

from mmpixpro.benchmarks.semi_coco.aggregate import parse_run_name


def test_parse_run_name():
    parse = parse_run_name
    assert parse('work_dirs/mask-rcnn_r50_fpn_coco-1@10') == (1, 10.0)
    assert parse('faster-rcnn_2@0.5_pixpro') == (2, 0.5)
    assert parse('work_dirs/baseline/') is None
