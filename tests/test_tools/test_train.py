"""tools/train.py and tools/dist_train.sh on the demo config and photos."""

import glob
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
from conftest import DEMO_CONFIG, REPO
from helpers import checkpoint_path, load_tool

TRAIN = osp.join(REPO, 'tools', 'train.py')
QUICK = [
    'train_cfg.max_epochs=1',
    'train_dataloader.num_workers=0',
    'default_hooks.logger.interval=1',
]


def run(cmd, timeout=900, **env):
    result = subprocess.run(
        cmd,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, OMP_NUM_THREADS='1', **env),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """One epoch (3 iterations) of the demo config, as the README runs it."""
    work_dir = tmp_path_factory.mktemp('demo_run')
    run(
        [
            sys.executable,
            TRAIN,
            DEMO_CONFIG,
            '--work-dir',
            str(work_dir),
            '--cfg-options',
            *QUICK,
        ]
    )
    return work_dir


def test_checkpoint_loads_with_weights_only(trained):
    ckpt = torch.load(checkpoint_path(trained), weights_only=True)
    assert ckpt['meta']['iter'] == 3
    keys = ckpt['state_dict'].keys()
    assert any(k.startswith('backbone.') for k in keys)
    assert any(k.startswith('projector.') for k in keys)
    assert any(k.startswith('target_net.module.') for k in keys)


def test_channels_last_run_writes_contiguous_weights(trained):
    from mmengine.config import Config

    assert Config.fromfile(DEMO_CONFIG).model.channels_last  # the run's format
    state = torch.load(checkpoint_path(trained), weights_only=True)['state_dict']
    convs = [v for v in state.values() if v.dim() == 4]
    assert len(convs) > 40 and all(v.is_contiguous() for v in convs)


def test_tensorboard_gets_loss_terms_lr_tau_and_spread(trained):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = glob.glob(osp.join(trained, '*', 'vis_data', 'events.out.tfevents.*'))
    assert len(events) == 1
    acc = EventAccumulator(events[0])
    acc.Reload()
    tags = set(acc.Tags()['scalars'])
    assert {'loss', 'lr', 'momentum_tau', 'feature_spread', 'num_pos_pairs'} <= tags
    assert [e.step for e in acc.Scalars('loss')] == [1, 2, 3]


def test_plain_torch_reads_the_checkpoint_as_data(trained):
    # Written as plain data (PlainCheckpointHook): a process that imports
    # torch only reads it with weights_only=True, the message hub's
    # statistics included.
    code = (
        'import sys, torch\n'
        'ckpt = torch.load(sys.argv[1], weights_only=True)\n'
        'print(sorted(ckpt), len(ckpt["state_dict"]) > 100,\n'
        '      "mmpixpro" in sys.modules)\n'
    )
    out = run([sys.executable, '-c', code, checkpoint_path(trained)])
    assert "'message_hub', 'meta'" in out.stdout, out.stdout + out.stderr
    assert out.stdout.rstrip().endswith('True False')


@pytest.mark.parametrize('backbone_type', ['mmpretrain.ResNet', 'mmdet.ResNet'])
def test_backbone_loads_into_resnet_without_conversion(trained, backbone_type):
    from mmpixpro.registry import MODELS

    ckpt_path = checkpoint_path(trained)
    state = torch.load(ckpt_path, weights_only=True)['state_dict']
    backbone = MODELS.build(
        dict(
            type=backbone_type,
            depth=18,
            init_cfg=dict(type='Pretrained', checkpoint=ckpt_path, prefix='backbone.'),
        )
    )
    backbone.init_weights()
    own = backbone.state_dict()
    expected = {
        k[len('backbone.') :]: v for k, v in state.items() if k.startswith('backbone.')
    }
    assert set(own) == set(expected)  # nothing missing, nothing extra
    for key, value in expected.items():
        assert torch.equal(own[key], value), key


def test_resume_continues_from_the_checkpoint(trained, tmp_path):
    work_dir = tmp_path / 'resumed'
    run(
        [
            sys.executable,
            TRAIN,
            DEMO_CONFIG,
            '--work-dir',
            str(work_dir),
            '--resume',
            checkpoint_path(trained),
            '--cfg-options',
            *QUICK[1:],
            'train_cfg.max_epochs=2',
        ]
    )
    ckpt = torch.load(checkpoint_path(work_dir), weights_only=True)
    assert ckpt['meta']['iter'] == 6
    assert int(ckpt['state_dict']['target_net.steps']) == 6


@pytest.mark.parametrize(
    'option, error, text',
    [
        (
            'train_dataloader.dataset.data_root=/no/such/photos',
            FileNotFoundError,
            '/no/such/photos',
        ),
        ('model.head.loss.type=PixProLos', KeyError, 'PixProLos'),
        ('model.head.pos_treshold=0.5', TypeError, 'pos_treshold'),
        ('model.head.ppm.num_layers=-1', ValueError, 'num_layers'),
    ],
)
def test_bad_config_fails_before_training(tmp_path, option, error, text):
    train = load_tool('tools/train.py')
    with pytest.raises(error, match=text):
        train.main(
            [
                DEMO_CONFIG,
                '--work-dir',
                str(tmp_path),
                '--cfg-options',
                *QUICK,
                option,
            ]
        )
    assert not osp.exists(osp.join(tmp_path, 'last_checkpoint'))


def test_missing_config_file(tmp_path):
    train = load_tool('tools/train.py')
    with pytest.raises(FileNotFoundError, match='nope.py'):
        train.main([str(tmp_path / 'nope.py')])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_with_torchrun_on_cpu(tmp_path):
    result = run(
        [
            'bash',
            'tools/dist_train.sh',
            DEMO_CONFIG,
            '2',
            '--work-dir',
            str(tmp_path),
            '--cfg-options',
            *QUICK,
            'train_dataloader.batch_size=2',
        ],
        PYTHON=sys.executable,
        PORT=str(free_port()),
    )
    ckpt = torch.load(checkpoint_path(tmp_path), weights_only=True)
    # 12 photos / (2 processes x 2 images) = 3 iterations.
    assert ckpt['meta']['iter'] == 3
    logs = [
        osp.join(root, f)
        for root, _, files in os.walk(tmp_path)
        for f in files
        if f.endswith('.log')
    ]
    text = ''.join(open(p).read() for p in logs)
    assert 'Distributed training: True' in text, result.stdout[-2000:]


FAKE_SRUN = """#!/usr/bin/env bash
# Stands in for slurm's srun on this one node: records its arguments, then
# runs the command once as the task of node 0.
printf '%s\\0' "$@" > "$SRUN_LOG"
nodes=1
while [[ $# -gt 0 && $1 == -* ]]; do
    case $1 in
        -p) shift ;;
        --nodes=*) nodes=${1#--nodes=} ;;
    esac
    shift
done
export SLURM_JOB_NODELIST=localhost SLURM_NNODES=$nodes SLURM_NODEID=0
export SLURM_JOB_ID=4242
exec "$@"
"""
FAKE_SCONTROL = """#!/usr/bin/env bash
[[ $1 == show && $2 == hostnames ]] && echo 127.0.0.1
"""


@pytest.mark.slow
def test_slurm_with_restarts_runs_torchrun_once_per_node(tmp_path):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, text in (('srun', FAKE_SRUN), ('scontrol', FAKE_SCONTROL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    work_dir, srun_log = tmp_path / 'work', tmp_path / 'srun_args'
    run(
        [
            'bash',
            'tools/slurm_train.sh',
            'gpu_partition',
            'pixpro',
            DEMO_CONFIG,
            str(work_dir),
            '--cfg-options',
            *QUICK,
            'train_dataloader.batch_size=2',
        ],
        PYTHON=sys.executable,
        PORT=str(free_port()),
        GPUS='2',
        GPUS_PER_NODE='2',
        RESTARTS='2',
        SRUN_LOG=str(srun_log),
        PATH=f'{bin_dir}:{os.environ["PATH"]}',
    )
    args = srun_log.read_text().split('\0')
    for option in ('--nodes=1', '--ntasks=1', '--ntasks-per-node=1', '--gres=gpu:2'):
        assert option in args, args
    assert '--kill-on-bad-exit=1' in args
    command = args[args.index('bash') :]
    assert command[4:7] == [osp.join(REPO, 'tools', 'dist_train.sh'), DEMO_CONFIG, '2']
    # torchrun ran 2 processes (12 photos / (2 x 2) = 3 iterations) with
    # restarts on.
    assert torch.load(checkpoint_path(work_dir), weights_only=True)['meta']['iter'] == 3
    log = ''.join(open(p).read() for p in glob.glob(f'{work_dir}/*/*.log'))
    assert 'Distributed training: True' in log
    assert 'torchrun restarts failed workers (0 of 2 restarts used)' in log


def test_the_checkpoint_records_the_pixel_bound_the_launcher_chose(trained):
    """No GPU here: the config's ``cpu`` bound, in the dumped config and in
    the checkpoint's state (``head._extra_state``), which a resume keeps."""
    from mmengine.config import Config

    (dumped,) = glob.glob(osp.join(trained, '*.py'))
    cfg = Config.fromfile(dumped)
    assert cfg.model.head.max_elements == cfg.pixel_max_elements.cpu == 1 << 22
    state = torch.load(checkpoint_path(trained), weights_only=True)['state_dict']
    assert int(state['head._extra_state']) == 1 << 22
