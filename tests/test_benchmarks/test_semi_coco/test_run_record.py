"""A fold's run record is read as a file of the work dir: never through a
planted link (the fold then runs again instead of "finished before")."""

import json
import os

from mmpixpro.benchmarks.semi_coco.run_record import RECORD, read_record


def test_a_planted_record_link_is_never_followed(tmp_path):
    record = {'identity': {'gpus': 8}, 'metrics': {'coco/bbox_mAP': 0.5}}
    elsewhere = tmp_path / 'other_run'
    elsewhere.mkdir()
    (elsewhere / RECORD).write_text(json.dumps(record))
    work_dir = tmp_path / 'fold0'
    work_dir.mkdir()
    os.symlink(elsewhere / RECORD, work_dir / RECORD)
    assert read_record(str(work_dir)) is None
    os.unlink(work_dir / RECORD)
    (work_dir / RECORD).write_text(json.dumps(record))
    assert read_record(str(work_dir)) == record
