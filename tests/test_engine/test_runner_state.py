"""mmpixpro.engine.runner_state against the installed mmengine: real tiny
Runners of the demo config, built with and without load_from / resume; and
no other module of mmpixpro touching the Runner's private attributes."""

import inspect
import os
import os.path as osp
import re
import shutil
import warnings

import mmengine
import pytest
import torch
from conftest import DEMO_CONFIG, REPO
from helpers import tiny_config
from mmengine.runner import Runner

from mmpixpro.engine import read_checkpoint
from mmpixpro.engine import runner_state as rs
from mmpixpro.engine.fault_tolerant_runner import FaultTolerantRunner

WEIGHT = 'backbone.conv1.weight'


def build(work_dir, runner_cls=Runner, **settings):
    cfg = tiny_config(DEMO_CONFIG, str(work_dir), iters=2)  # as demo_checkpoint
    cfg.merge_from_dict(settings)
    return runner_cls.from_cfg(cfg)


def weight(runner) -> torch.Tensor:
    return runner.model.state_dict()[WEIGHT].clone()


@pytest.fixture(scope='module')
def saved_weight(demo_checkpoint) -> torch.Tensor:
    return read_checkpoint(demo_checkpoint)['state_dict'][WEIGHT]


def test_a_runner_built_without_a_checkpoint(tmp_path):
    runner = build(tmp_path)
    assert rs.checkpoint_to_load(runner) is None
    assert not rs.resume_requested(runner)
    assert not rs.has_loaded(runner)
    assert not rs.train_loop_built(runner)
    assert rs.current_train_iter(runner) == 0
    assert not rs.train_loop_built(runner)  # reading it built nothing
    assert runner.iter == 0  # mmengine builds the loop on first use
    assert rs.train_loop_built(runner)
    assert rs.current_train_iter(runner) == 0
    runner.load_or_resume()
    assert not rs.has_loaded(runner)


def test_a_runner_built_to_resume(tmp_path, demo_checkpoint):
    runner = build(tmp_path, load_from=demo_checkpoint, resume=True)
    assert rs.checkpoint_to_load(runner) == demo_checkpoint
    assert rs.resume_requested(runner)
    assert not rs.has_loaded(runner) and not rs.train_loop_built(runner)
    runner.load_or_resume()
    assert rs.has_loaded(runner)
    assert rs.train_loop_built(runner)  # mmengine's resume builds it
    assert rs.current_train_iter(runner) == runner.iter == 2


@pytest.mark.parametrize('runner_cls', [Runner, FaultTolerantRunner])
def test_load_checkpoint_marks_the_runner_loaded(
    tmp_path, demo_checkpoint, saved_weight, runner_cls
):
    runner = build(tmp_path, runner_cls, load_from=demo_checkpoint)
    assert rs.checkpoint_to_load(runner) == demo_checkpoint
    assert not rs.resume_requested(runner) and not rs.has_loaded(runner)
    assert not torch.equal(weight(runner), saved_weight)
    runner.load_checkpoint(demo_checkpoint)
    assert rs.has_loaded(runner)
    assert torch.equal(weight(runner), saved_weight)
    assert rs.current_train_iter(runner) == 0  # loaded, not resumed


def test_load_or_resume_does_what_the_setter_says(
    tmp_path, demo_checkpoint, saved_weight
):
    # load a checkpoint given after the Runner was built
    runner = build(tmp_path / 'load')
    rs.set_checkpoint_to_load(runner, demo_checkpoint, resume=False)
    assert rs.checkpoint_to_load(runner) == demo_checkpoint
    assert not rs.resume_requested(runner)
    runner.load_or_resume()
    assert rs.has_loaded(runner) and runner.iter == 0
    assert torch.equal(weight(runner), saved_weight)

    # nothing, in place of the load_from it was built with
    runner = build(tmp_path / 'none', load_from=demo_checkpoint, resume=True)
    before = weight(runner)
    rs.set_checkpoint_to_load(runner, None, resume=False)
    assert rs.checkpoint_to_load(runner) is None and not rs.resume_requested(runner)
    runner.load_or_resume()
    assert not rs.has_loaded(runner) and runner.iter == 0
    assert torch.equal(weight(runner), before)

    # resume from a path
    runner = build(tmp_path / 'resume')
    rs.set_checkpoint_to_load(runner, demo_checkpoint, resume=True)
    runner.load_or_resume()
    assert rs.has_loaded(runner) and runner.iter == 2
    assert torch.equal(weight(runner), saved_weight)

    # resume from the work dir's latest
    work_dir = tmp_path / 'latest'
    work_dir.mkdir()
    latest = shutil.copy(demo_checkpoint, work_dir / 'iter_2.pth')
    (work_dir / 'last_checkpoint').write_text(str(latest))
    runner = build(work_dir)
    rs.set_checkpoint_to_load(runner, None, resume=True)
    runner.load_or_resume()
    assert rs.has_loaded(runner) and runner.iter == 2
    assert torch.equal(weight(runner), saved_weight)


def test_a_runner_marked_loaded_loads_nothing_more(tmp_path, demo_checkpoint):
    runner = build(tmp_path, load_from=demo_checkpoint)
    before = weight(runner)
    rs.mark_loaded(runner)
    assert rs.has_loaded(runner)
    runner.load_or_resume()
    assert torch.equal(weight(runner), before)


def test_a_missing_attribute_names_the_verified_range():
    with pytest.raises(AttributeError, match=r'has no _load_from.*0\.10\.0 - 0\.10\.7'):
        rs.checkpoint_to_load(object())
    with pytest.raises(AttributeError, match='has no _has_loaded'):
        rs.mark_loaded(object())


def test_the_installed_mmengine_is_verified():
    assert rs.version_problem(mmengine.__version__) is None
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert rs.check_mmengine_version() is None
    low, high = rs.VERIFIED_MMENGINE
    assert rs.version_problem(low) is None and rs.version_problem(high) is None


@pytest.mark.parametrize('version', ['0.9.1', '0.10.8', '1.0.0rc0'])
def test_a_version_outside_the_range_is_named_once(version):
    with pytest.warns(RuntimeWarning) as record:
        line = rs.check_mmengine_version(version)
    assert [str(w.message) for w in record] == [line]
    assert f'mmengine {version} is outside 0.10.0 - 0.10.7' in line
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # warned once per version
        assert rs.check_mmengine_version(version) == line


def runner_fields():
    """The attributes mmengine's Runner assigns to itself whose names start
    with ``_``."""
    source = inspect.getsource(Runner)
    return set(re.findall(r'\bself\.(_[a-z]\w*)\s*[:=]', source))


def defines_a_runner(text: str) -> bool:
    return re.search(r'^class \w+\((\w+\.)?\w*Runner\)', text, re.M) is not None


def private_accesses(path: str, fields) -> list:
    """Lines of ``path`` that touch a Runner's private attribute: any object's
    one adapted by runner_state, ``runner._<field>``, and ``self._<field>``
    in a Runner subclass."""
    with open(path) as f:
        text = f.read()
    names = '|'.join(sorted(fields))
    patterns = [
        r'\.(%s)\b' % '|'.join(rs.RUNNER_FIELDS),
        r'\brunner\.(%s)\b' % names,
    ]
    if defines_a_runner(text):
        patterns.append(r'\bself\.(%s)\b' % names)
    return [
        f'{osp.relpath(path, REPO)}:{number}: {line.strip()}'
        for number, line in enumerate(text.splitlines(), 1)
        if any(re.search(pattern, line) for pattern in patterns)
    ]


def test_only_runner_state_touches_the_runners_private_attributes():
    fields = runner_fields()
    assert set(rs.RUNNER_FIELDS) <= fields
    assert {'_hooks', '_val_loop', '_randomness_cfg'} <= fields
    adapter = osp.join(REPO, 'mmpixpro', 'engine', 'runner_state.py')
    assert len(private_accesses(adapter, fields)) >= 2  # the check finds writes
    with open(osp.join(REPO, 'mmpixpro', 'engine', 'fault_tolerant_runner.py')) as f:
        assert defines_a_runner(f.read())  # its self._<field> are checked
    found = []
    for folder in ('mmpixpro', 'tools'):
        for path in sorted(
            osp.join(root, name)
            for root, _, names in os.walk(osp.join(REPO, folder))
            for name in names
            if name.endswith('.py')
        ):
            if path != adapter:
                found += private_accesses(path, fields)
    assert found == []
