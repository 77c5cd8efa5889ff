"""tools/benchmarks/dist_test.sh: a fine-tuned model evaluated by two
torchrun processes (gloo on CPU) gives the metrics of one process."""

import json
import os
import os.path as osp
import socket
import subprocess

import torch
from conftest import REPO
from helpers import checkpoint_path, load_tool
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.models import ResNet

from mmpixpro.benchmarks.transfer import find_hook_cfg
from mmpixpro.testing import small_benchmark_config, toy_data

LINEAR = osp.join(
    REPO,
    'configs',
    'benchmarks',
    'classification',
    'resnet50_linear-8xb32-steplr-100e_in1k_paper-protocol.py',
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_processes_give_the_metrics_of_one(tmp_path):
    # 5 validation images: two ranks see 3 + 3 (one padded), counted once
    root = toy_data.make_imagenet(str(tmp_path / 'imagenet'), {'train': 4, 'val': 5})
    cfg = small_benchmark_config(Config.fromfile(LINEAR), root, 72)
    # A backbone to start from: the fine-tuning below only needs backbone.*
    backbone = ResNet(depth=18)
    pretrained = str(tmp_path / 'pretrained.pth')
    torch.save(
        {'state_dict': {'backbone.' + k: v for k, v in backbone.state_dict().items()}},
        pretrained,
    )
    find_hook_cfg(cfg).checkpoint = pretrained
    cfg.work_dir = str(tmp_path / 'finetune')
    cfg.visualizer.name = f'visualizer_{tmp_path.name}'
    Runner.from_cfg(cfg).train()
    config_file = str(tmp_path / 'config.py')
    cfg.dump(config_file)
    ckpt = checkpoint_path(cfg.work_dir)

    one = load_tool('tools/benchmarks/test.py').main(
        [config_file, ckpt, '--work-dir', str(tmp_path / 'one')]
    )
    out = str(tmp_path / 'two.json')
    env = dict(os.environ, PORT=str(free_port()), OMP_NUM_THREADS='1')
    result = subprocess.run(
        [
            'bash',
            osp.join(REPO, 'tools', 'benchmarks', 'dist_test.sh'),
            config_file,
            ckpt,
            '2',
            '--work-dir',
            str(tmp_path / 'two'),
            '--out',
            out,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with open(out) as f:
        two = json.load(f)
    assert set(two) == set(one) and 'accuracy/top1' in one
    for key in one:
        assert two[key] == one[key], key
