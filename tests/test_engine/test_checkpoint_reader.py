"""Every checkpoint a config or a tool of ours names is read as data: a
served payload given as a URL to pre-training ``load_from``, to a backbone's
``init_cfg`` and to mmdet's own train.py never runs, and the refusal is one
line; the same with ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``, which makes torch
unpickle anything in calls that do not pass ``weights_only``. URLs and
schemes are downloaded into the cache first, whole or not at all."""

import functools
import http.server
import os
import os.path as osp
import re
import subprocess
import sys
import threading

import mmdet
import pytest
import torch
from conftest import DEMO_CONFIG, REPO
from helpers import tiny_config
from mmengine.config import Config
from mmengine.runner import Runner

from mmpixpro.engine.checkpoint_checks import CheckpointError
from mmpixpro.engine.checkpoint_download import resolve
from mmpixpro.engine.checkpoint_reader import read_checkpoint
from mmpixpro.engine.fault_tolerant_runner import FaultTolerantRunner
from mmpixpro.testing import coco_split_folders, shrink_config

MMDET_TRAIN = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', 'train.py')
BENCH = osp.join(REPO, 'configs', 'benchmarks')
FCOS = osp.join(BENCH, 'mmdet', 'fcos_r50_fpn_gn-head_1x_coco_mmdet-default.py')
FORCE = 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'


class WritesMarker:
    """Unpickling it runs Python that writes ``marker``: it exists iff the
    payload ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f'open({self.marker!r}, "w").write("ran")',))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path):
    """A folder served on 127.0.0.1 (in a thread); its base URL."""
    folder = tmp_path / 'served'
    folder.mkdir()
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


@pytest.fixture(params=[False, True], ids=['torch-default', FORCE])
def env(request, tmp_path, monkeypatch):
    """A fresh download cache; with the parameter, the environment variable
    that turns ``weights_only`` off wherever it is not passed."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.delenv('TORCH_FORCE_WEIGHTS_ONLY_LOAD', raising=False)
    if request.param:
        monkeypatch.setenv(FORCE, '1')
    else:
        monkeypatch.delenv(FORCE, raising=False)
    return dict(os.environ)


@pytest.fixture
def payload(served, tmp_path):
    """``(URL of a checkpoint whose unpickling writes a marker, marker)``."""
    folder, base = served
    marker = tmp_path / 'payload-ran'
    torch.save(
        {'state_dict': {'backbone.x': torch.zeros(1)}, 'meta': WritesMarker(marker)},
        folder / 'payload.pth',
    )
    return f'{base}/payload.pth', marker


def assert_refused_in_one_line(message, url):
    assert '\n' not in message, message
    # torch >= 2.7 names builtins without their module; the transfer hook
    # quotes the name
    assert re.match(
        rf"cannot load '?{re.escape(url)}'?: it holds (builtins\.)?exec, which "
        'is code, not data: refused without running it',
        message,
    ), message


def refusal(run) -> CheckpointError:
    with pytest.raises(CheckpointError) as info:
        run()
    error = info.value
    # A traceback shows our line only: torch's error is not chained.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    return error


def test_pretraining_load_from_url_never_runs_a_payload(env, payload, tmp_path, photos):
    url, marker = payload
    cfg = tiny_config(DEMO_CONFIG, str(tmp_path / 'run'), data_root=photos)
    cfg.load_from = url
    runner = FaultTolerantRunner.from_cfg(cfg)
    error = refusal(runner.train)
    assert_refused_in_one_line(str(error), url)
    assert not marker.exists() and runner.iter == 0
    # Downloaded into the cache first (torch's hub folder, as mmengine does).
    assert osp.isfile(osp.join(env['TORCH_HOME'], 'hub', 'checkpoints', 'payload.pth'))


def test_init_cfg_pretrained_url_never_runs_a_payload(env, payload, tmp_path, photos):
    """mmengine's own loader (``PretrainedInit``), made ours by the config's
    ``custom_imports``."""
    url, marker = payload
    cfg = tiny_config(DEMO_CONFIG, str(tmp_path / 'run'), data_root=photos)
    assert 'mmpixpro.engine.safe_checkpoint_loading' in cfg.custom_imports.imports
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=url)
    runner = Runner.from_cfg(cfg)
    assert_refused_in_one_line(str(refusal(runner.train)), url)
    assert not marker.exists()


def test_mmdet_train_py_never_runs_a_payload_url(env, payload, coco, tmp_path):
    """mmdet's own train.py (what ``mim train mmdet`` runs) with a benchmark
    config and ``--cfg-options load_from=URL``."""
    url, marker = payload
    root, val_ann = coco
    cfg = shrink_config(
        Config.fromfile(FCOS),
        small_heads=True,
        crop_size=64,
        scale=(128, 96),
        data_root=root,
        batch_size=2,
        iters=1,
        val_ann=val_ann,
        dataset_edit=coco_split_folders,
    )
    config = str(tmp_path / 'fcos_small.py')
    cfg.dump(config)
    work_dir = tmp_path / 'work'
    result = subprocess.run(
        [sys.executable, MMDET_TRAIN, config, '--work-dir', str(work_dir)]
        + ['--cfg-options', f'load_from={url}'],
        cwd=str(tmp_path),
        env=dict(env, OMP_NUM_THREADS='2'),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode != 0 and not marker.exists(), result.stderr[-3000:]
    # The traceback ends with our line (the transfer hook's error).
    error, message = result.stderr.strip().splitlines()[-1].split(': ', 1)
    assert error.startswith('mmpixpro.'), result.stderr[-3000:]
    assert_refused_in_one_line(message, url)
    assert 'Weights only load failed' not in result.stderr  # torch's paragraphs
    assert not [n for n in os.listdir(work_dir) if n.endswith('.pth')]


def test_schemes_are_downloaded_then_read_as_files(env, served, tmp_path, monkeypatch):
    folder, base = served
    good = {'meta': {}, 'state_dict': {'backbone.w': torch.arange(3.0)}}
    torch.save(good, folder / 'good.pth')
    marker = tmp_path / 'payload-ran'
    torch.save({'x': WritesMarker(marker)}, folder / 'evil.pth')
    # open-mmlab://NAME: mmengine's table, extended from MMENGINE_HOME.
    home = tmp_path / 'mmengine_home'
    home.mkdir()
    (home / 'open_mmlab.json').write_text(
        f'{{"good": "{base}/good.pth", "evil": "{base}/evil.pth"}}'
    )
    monkeypatch.setenv('MMENGINE_HOME', str(home))
    loaded = read_checkpoint('open-mmlab://good')
    assert torch.equal(loaded['state_dict']['backbone.w'], torch.arange(3.0))
    cached = osp.join(env['TORCH_HOME'], 'hub', 'checkpoints', 'good.pth')
    assert osp.isfile(cached)
    os.unlink(folder / 'good.pth')  # read from the cache from now on
    assert torch.equal(
        read_checkpoint(f'{base}/good.pth')['state_dict']['backbone.w'],
        torch.arange(3.0),
    )
    assert_refused_in_one_line(
        str(refusal(lambda: read_checkpoint('open-mmlab://evil'))), 'open-mmlab://evil'
    )
    assert not marker.exists()
    # A failed download leaves nothing in the cache, and says so in one line.
    missing = refusal(lambda: read_checkpoint(f'{base}/missing.pth'))
    assert str(missing).startswith(f'cannot load {base}/missing.pth: cannot download')
    assert '\n' not in str(missing)
    assert sorted(os.listdir(osp.dirname(cached))) == ['evil.pth', 'good.pth']
    # The other schemes resolve to URLs of mmengine's tables.
    assert resolve('torchvision://resnet18').startswith('https://')
    assert resolve('mmcls://resnet50').startswith('https://')
    for source, reason in [
        ('torchvision://no_such_net', "mmengine knows no checkpoint named 'no_such"),
        ('s3://bucket/ckpt.pth', 's3:// is not read by mmpixpro: download the file'),
        ('ftp://host/ckpt.pth', 'ftp:// is a scheme mmpixpro does not know'),
    ]:
        error = refusal(lambda source=source: read_checkpoint(source))
        assert str(error).startswith(f'cannot load {source}: {reason}')


def test_mmengine_reads_every_prefix_it_knows_through_ours():
    """Once registered (what the configs' ``custom_imports`` do), every
    prefix of mmengine's ``CheckpointLoader`` is read by ours."""
    from mmengine.runner import CheckpointLoader

    import mmpixpro.engine.safe_checkpoint_loading  # noqa: F401
    from mmpixpro.engine.checkpoint_reader import load_from_mmpixpro

    for path in ['x.pth', 'http://h/x.pth', 'https://h/x.pth', 'torchvision://r']:
        assert CheckpointLoader._get_checkpoint_loader(path) is load_from_mmpixpro
    assert set(CheckpointLoader._schemes.values()) == {load_from_mmpixpro}


def test_config_text_in_a_checkpoint_is_never_parsed(demo_checkpoint, tmp_path):
    """mmengine writes the run's config as Python text into a checkpoint
    (mmdet's ``DetInferencer`` would run it); our APIs read its tensors only.
    A guard: nothing of ours has parsed it before either."""
    from mmpixpro.apis import init_model
    from mmpixpro.benchmarks.transfer import load_state_dict_file

    marker = tmp_path / 'config-ran'
    text = f'x = open({str(marker)!r}, "w").write("ran")\n'
    Config.fromstring(text, file_format='.py')  # live: parsing it runs it
    assert marker.exists()
    marker.unlink()
    ckpt = torch.load(demo_checkpoint, weights_only=True)
    ckpt['meta']['cfg'] = text
    ckpt['message_hub']['runtime_info']['cfg'] = text
    path = str(tmp_path / 'with_config_text.pth')
    torch.save(ckpt, path)
    read_checkpoint(path)
    load_state_dict_file(path)
    init_model(DEMO_CONFIG, path)
    assert not marker.exists()
