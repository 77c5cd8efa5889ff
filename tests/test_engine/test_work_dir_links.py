"""Links planted in a work dir are never followed: the lock file,
``last_checkpoint`` (read and written), ``transfer_report.json`` and
``tools/benchmarks/test.py --out``, each with a link to an existing file and
a dangling one; the target is neither written, created nor truncated. The
two outputs are written atomically."""

import json
import os
import os.path as osp

import pytest
import torch
from conftest import DEMO_CONFIG, REPO, process_globals_kept
from helpers import checkpoint_path, load_tool, tiny_config
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.models import ResNet

from mmpixpro.benchmarks.transfer import find_hook_cfg
from mmpixpro.engine.fault_tolerant_runner import FaultTolerantRunner
from mmpixpro.engine.resume_checkpoint import checkpoint_candidates
from mmpixpro.engine.work_dir_lock import LOCK_NAME, WorkDirLock
from mmpixpro.testing import small_benchmark_config, toy_data
from mmpixpro.utils.no_follow import LinkRefusedError

LINEAR = osp.join(
    REPO,
    'configs',
    'benchmarks',
    'classification',
    'resnet50_linear-8xb32-steplr-100e_in1k_paper-protocol.py',
)
TARGETS = ['existing', 'dangling']


def plant(link, kind, tmp_path):
    """A link at ``link`` to ``tmp_path/victim`` (an existing file holding
    ``precious``, or none); the victim's path."""
    victim = tmp_path / 'victim'
    if kind == 'existing':
        victim.write_text('precious')
    os.symlink(str(victim), str(link))
    return victim


def assert_untouched(victim, kind):
    if kind == 'existing':
        assert victim.read_text() == 'precious'
    else:
        assert not os.path.lexists(victim)


def log_of(runner):
    return open(osp.join(runner.log_dir, f'{runner.timestamp}.log')).read()


@pytest.mark.parametrize('kind', TARGETS)
def test_a_link_at_the_lock_files_name_is_refused(tmp_path, kind):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    victim = plant(work_dir / LOCK_NAME, kind, tmp_path)
    with pytest.raises(LinkRefusedError) as info:
        WorkDirLock(str(work_dir)).acquire()
    assert str(info.value) == (
        f'{work_dir / LOCK_NAME} is a symbolic link (to {victim}), which is '
        'never followed: nothing was read or written through it; remove the link'
    )
    assert_untouched(victim, kind)
    os.unlink(work_dir / LOCK_NAME)
    with WorkDirLock(str(work_dir)) as lock:  # the link removed: it works
        assert lock.held


def save(path):
    torch.save({}, path)
    return str(path)


def test_last_checkpoint_is_not_read_through_a_link(tmp_path):
    e1, e2 = save(tmp_path / 'epoch_1.pth'), save(tmp_path / 'epoch_2.pth')
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.write_text(e1)  # followed, it would put epoch 1 first
    os.symlink(str(elsewhere), str(tmp_path / 'last_checkpoint'))
    warnings = []
    assert checkpoint_candidates(str(tmp_path), warnings.append) == [e2, e1]
    assert warnings == [
        f'last_checkpoint ignored: {tmp_path / "last_checkpoint"} is a symbolic '
        f'link (to {elsewhere}), which is never followed: nothing was read or '
        'written through it; remove the link'
    ]


@pytest.mark.parametrize('through', ['../', 'a folder link'])
def test_last_checkpoint_naming_another_folder_is_ignored(tmp_path, through):
    work_dir, other = tmp_path / 'run', tmp_path / 'other_run'
    work_dir.mkdir()
    other.mkdir()
    for folder, epoch in ((work_dir, 1), (other, 9), (other, 8)):
        save(folder / f'epoch_{epoch}.pth')
    if through == '../':
        text = '../other_run/epoch_9.pth'
    else:  # a link inside the work dir to the other folder
        os.symlink(str(other), str(work_dir / 'sub'))
        text = str(work_dir / 'sub' / 'epoch_9.pth')
    (work_dir / 'last_checkpoint').write_text(text)
    warnings = []
    candidates = checkpoint_candidates(str(work_dir), warnings.append)
    assert candidates == [str(work_dir / 'epoch_1.pth')]  # no epoch of other_run
    assert warnings == [
        f'{work_dir / "last_checkpoint"} ignored: it names {text}, outside the '
        f'work dir {work_dir}; only checkpoints of this work dir are resumed from'
    ]


@pytest.mark.parametrize('kind', TARGETS)
def test_last_checkpoint_is_not_written_through_a_link(tmp_path, photos, kind):
    work_dir = tmp_path / 'run'
    work_dir.mkdir()
    victim = plant(work_dir / 'last_checkpoint', kind, tmp_path)
    cfg = tiny_config(DEMO_CONFIG, str(work_dir), max_epochs=1, data_root=photos)
    runner = FaultTolerantRunner.from_cfg(cfg)
    runner.train()
    assert_untouched(victim, kind)
    last = work_dir / 'last_checkpoint'
    assert not last.is_symlink()
    assert last.read_text() == str(work_dir / 'epoch_1.pth')
    assert (
        f'{last} was a symbolic link (to {victim}): removed, never written'
    ) in log_of(runner)


# -- the benchmarks' outputs -------------------------------------------------------


@pytest.fixture(scope='module')
def linear(tmp_path_factory):
    """The linear-evaluation config shrunk (ResNet-18, a few 72 px images),
    a backbone to start from, and a fine-tuned checkpoint of it."""
    root = tmp_path_factory.mktemp('linear')
    data = toy_data.make_imagenet(str(root / 'imagenet'), {'train': 4, 'val': 2})
    cfg = small_benchmark_config(Config.fromfile(LINEAR), data, 72, iters=1)
    pretrained = str(root / 'pretrained.pth')
    backbone = {'backbone.' + k: v for k, v in ResNet(depth=18).state_dict().items()}
    torch.save({'state_dict': backbone}, pretrained)
    find_hook_cfg(cfg).checkpoint = pretrained
    config = str(root / 'linear.py')
    cfg.dump(config)
    work_dir = str(root / 'finetuned')
    with process_globals_kept():  # no mmpretrain scope left behind
        finetune(config, work_dir)
    return config, checkpoint_path(work_dir)


def finetune(config, work_dir):
    cfg = Config.fromfile(config)
    cfg.work_dir = str(work_dir)
    cfg.visualizer.name = f'visualizer_{work_dir}'  # a process-wide singleton
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def test_the_transfer_report_replaces_the_old_one_atomically(linear, tmp_path):
    report = tmp_path / 'transfer_report.json'
    report.write_text('the last run')
    hard_link = tmp_path / 'another_name'
    os.link(report, hard_link)  # a plain write would change this name too
    finetune(linear[0], tmp_path)
    assert json.loads(report.read_text())['modules']['backbone']['loaded']
    assert hard_link.read_text() == 'the last run'
    assert not [n for n in os.listdir(tmp_path) if n.endswith('.tmp')]


@pytest.mark.parametrize('kind', TARGETS)
def test_the_transfer_report_is_not_written_through_a_link(linear, tmp_path, kind):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    victim = plant(work_dir / 'transfer_report.json', kind, tmp_path)
    runner = finetune(linear[0], work_dir)
    assert runner.iter == 1  # the run goes on; the report is in its log
    assert_untouched(victim, kind)
    assert (work_dir / 'transfer_report.json').is_symlink()
    log = log_of(runner)
    assert (
        f'transfer_report.json not written: {work_dir / "transfer_report.json"} '
        f'is a symbolic link (to {victim})'
    ) in log
    assert 'Pre-trained weights from ' in log  # the report itself


def test_the_test_tools_out_is_atomic_and_never_a_link(linear, tmp_path):
    config, ckpt = linear
    test_tool = load_tool('tools/benchmarks/test.py')
    for kind in TARGETS:
        out = tmp_path / f'{kind}.json'
        victim = plant(out, kind, tmp_path)
        with pytest.raises(LinkRefusedError, match=f'{out} is a symbolic link'):
            test_tool.main([config, ckpt, '--out', str(out)])  # before the work
        assert_untouched(victim, kind)
        if kind == 'existing':
            os.unlink(victim)
    out = tmp_path / 'metrics.json'
    out.write_text('the last evaluation')
    hard_link = tmp_path / 'another_name'
    os.link(out, hard_link)
    metrics = test_tool.main(
        [config, ckpt, '--out', str(out), '--work-dir', str(tmp_path / 'test')]
    )
    assert json.loads(out.read_text()) == pytest.approx(metrics)
    assert hard_link.read_text() == 'the last evaluation'  # replaced by a rename
    assert not [n for n in os.listdir(tmp_path) if n.endswith('.tmp')]
