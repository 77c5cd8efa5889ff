"""tools/model_converters/publish_model.py: a checkpoint to share, weights
and plain ``meta`` only, named with its SHA-256 prefix, that
``torch.load(weights_only=True)`` reads with nothing of mmpixpro / mmengine
imported (a stock mmdet backbone's ``init_cfg`` loads it), and that the
transfer hook takes under mmdet's own train.py."""

import glob
import hashlib
import json
import os
import os.path as osp
import re
import sys

import pytest
import torch
from conftest import REPO
from helpers import FCOS, own_train_py, run_cli, toy_benchmark_config

from mmpixpro.engine.checkpoint_digest import tensor_digest

PUBLISH = osp.join(REPO, 'tools', 'model_converters', 'publish_model.py')
MMDET_TRAIN = own_train_py('mmdet')
# only torch: the environment of someone who never installed mmpixpro
BARE_ENV = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}


@pytest.fixture(scope='module')
def published(demo_checkpoint, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp('published')
    result = run_cli(
        [sys.executable, PUBLISH, demo_checkpoint, out_dir / 'pixpro_demo.pth'], out_dir
    )
    (path,) = glob.glob(str(out_dir / 'pixpro_demo_*.pth'))
    assert f'published {path}: ' in result.stdout
    return path


def test_the_name_carries_the_date_and_sha256(published):
    match = re.fullmatch(
        r'pixpro_demo_(\d{8})-([0-9a-f]{8})\.pth', osp.basename(published)
    )
    assert match, published
    with open(published, 'rb') as f:
        assert hashlib.sha256(f.read()).hexdigest().startswith(match.group(2))


def test_weights_and_meta_load_with_nothing_imported(
    published, demo_checkpoint, tmp_path
):
    code = (
        'import json, sys, torch\n'
        'ckpt = torch.load(sys.argv[1], weights_only=True)\n'
        'print(json.dumps(dict(keys=sorted(ckpt), meta=ckpt["meta"],\n'
        '    tensors=len(ckpt["state_dict"]),\n'
        '    imported=[m for m in ("mmpixpro", "mmengine") if m in sys.modules])))\n'
    )
    out = json.loads(
        run_cli([sys.executable, '-c', code, published], tmp_path, env=BARE_ENV).stdout
    )
    source = torch.load(demo_checkpoint, weights_only=True)
    assert out['keys'] == ['meta', 'state_dict'] and out['imported'] == []
    assert out['tensors'] == len(source['state_dict'])
    assert 'cfg' not in out['meta'] and 'hook_msgs' not in out['meta']
    assert out['meta']['iter'] == source['meta']['iter']
    # its own digest, not the training checkpoint's (nor the places of that
    # one's plain data); the training checkpoint is plain data too
    assert 'plain_data' not in out['meta']
    assert out['meta']['tensor_sha256'] != source['meta']['tensor_sha256']
    assert out['meta']['tensor_sha256'] == tensor_digest(torch.load(published))
    original = run_cli(
        [sys.executable, '-c', code, demo_checkpoint], tmp_path, env=BARE_ENV
    )
    assert json.loads(original.stdout)['imported'] == []
    weights = torch.load(published, weights_only=True)['state_dict']
    assert all(torch.equal(weights[k], v) for k, v in source['state_dict'].items())


def test_a_stock_mmdet_backbone_loads_it_without_mmpixpro(published, tmp_path):
    """mmdet's ResNet with ``init_cfg=dict(type='Pretrained', ...)``, in a
    process that never imports mmpixpro (mmengine's loader, torch's default
    weights_only=True)."""
    code = (
        'import sys, torch\n'
        'from mmdet.registry import MODELS\n'
        'from mmdet.utils import register_all_modules\n'
        'register_all_modules()\n'
        'net = MODELS.build(dict(type="ResNet", depth=18, init_cfg=dict(\n'
        '    type="Pretrained", checkpoint=sys.argv[1], prefix="backbone.")))\n'
        'net.init_weights()\n'
        'state = torch.load(sys.argv[1], weights_only=True)["state_dict"]\n'
        'same = torch.equal(net.conv1.weight, state["backbone.conv1.weight"])\n'
        'print("loaded", same, "mmpixpro" in sys.modules)\n'
    )
    result = run_cli([sys.executable, '-c', code, published], tmp_path, env=BARE_ENV)
    assert 'loaded True False' in result.stdout, result.stdout[-2000:]
    assert 'Weights only load failed' not in result.stdout + result.stderr


def test_the_transfer_hook_takes_it_under_mmdet_train_py(published, tmp_path):
    config = toy_benchmark_config(FCOS, tmp_path, train_only=True)
    work_dir = tmp_path / 'wd'
    run_cli(
        [
            sys.executable,
            MMDET_TRAIN,
            config,
            '--work-dir',
            work_dir,
            '--cfg-options',
            f'load_from={published}',
        ],
        tmp_path,
    )
    with open(work_dir / 'transfer_report.json') as f:
        report = json.load(f)
    assert report['checkpoint'] == published
    backbone = report['modules']['backbone']
    assert backbone['loaded'] and not backbone['fresh']


def test_an_unreadable_input_is_one_line(tmp_path):
    result = run_cli(
        [sys.executable, PUBLISH, tmp_path / 'missing.pth', tmp_path / 'o.pth'],
        tmp_path,
        ok=False,
    )
    assert result.returncode == 2 and 'Traceback' not in result.stderr
    assert result.stderr.strip() == (
        f"publish_model.py: error: checkpoint '{tmp_path / 'missing.pth'}' not found"
    )
