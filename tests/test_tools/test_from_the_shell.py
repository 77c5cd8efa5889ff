"""What a user sees in the shell: every command run as a user runs it, in a
fresh process, from another folder, and judged by its exit status and its
stderr.

- Config arguments: a path, ``mmpixpro::<path>`` or a config name work in
  every tool and launch script; an unknown one is one line naming the three
  closest configs (mmpixpro.utils.config_resolver).
- Errors a user causes end as one line ``<tool>: error: ...`` without a
  traceback (``--debug`` / ``MMPIXPRO_DEBUG=1`` show it); under mmdet's own
  train.py the message is the first line of stderr, before its traceback.
- The lr advice names the option of the running script: ``--auto-scale-lr``
  for ours and mmdet's train.py, ``--cfg-options auto_scale_lr.enable=True``
  for mmseg's, which has no such option.
- The demo config finds its photos from any folder; our tools show none of
  the library warnings of mmpixpro.utils.cli.LIBRARY_NOISE (mmseg's
  deprecations, pkg_resources), and the docs explain each where mmdet's /
  mmseg's own scripts print them.
"""

import glob
import os.path as osp
import sys

import pytest
import torch
from conftest import REPO
from helpers import (
    FCN,
    MASK_RCNN_FPN,
    log_of,
    own_train_py,
    run_cli,
    toy_benchmark_config,
)

from mmpixpro.utils.cli import LIBRARY_NOISE

TOOLS = osp.join(REPO, 'tools')
MMDET_TRAIN = own_train_py('mmdet')
MMSEG_TRAIN = own_train_py('mmseg')
DEMO_NAME = 'pixpro_r18_c5_1xb4-coslr-40e_demo'
C5_NAME = 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'


def one_line_error(result, tool: str) -> str:
    """The error line of a failed tool: exit status 2, stderr is that line."""
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-3000:]
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-3000:]
    assert lines[0].startswith(f'{tool}: error: '), lines[0]
    return lines[0]


# -- config arguments ------------------------------------------------------
UNKNOWN = [
    ('train.py', [sys.executable, osp.join(TOOLS, 'train.py'), 'pixpro_r50_c5_100e']),
    (
        'train.py',
        [
            sys.executable,
            osp.join(TOOLS, 'benchmarks', 'train.py'),
            'mmpixpro::benchmarks/mmdet/fcos.py',
            'x.pth',
        ],
    ),
    (
        'test.py',
        [sys.executable, osp.join(TOOLS, 'benchmarks', 'test.py'), 'fcos', 'x.pth'],
    ),
    (
        'print_config.py',
        [sys.executable, osp.join(TOOLS, 'misc', 'print_config.py'), 'pixpro_c5'],
    ),
    (
        'dist_train.sh',
        ['bash', osp.join(TOOLS, 'dist_train.sh'), 'pixpro_r50_c5_100e', '1'],
    ),
]


@pytest.mark.parametrize(
    'tool, cmd', UNKNOWN, ids=[' '.join(c[1:3])[-40:] for _, c in UNKNOWN]
)
def test_an_unknown_config_is_one_line_with_the_closest(tool, cmd, tmp_path):
    line = one_line_error(run_cli(cmd, tmp_path, ok=False, PYTHON=sys.executable), tool)
    assert ' not found (' in line and '; closest: ' in line
    closest = line.split('; closest: ')[1].split(', ')
    assert len(closest) == 3
    if 'pixpro_r50_c5_100e' in cmd:
        assert closest[0] == C5_NAME
    if 'mmpixpro::' in cmd[2]:
        assert all(
            c.startswith('mmpixpro::benchmarks/mmdet/fcos_') for c in closest[:2]
        )


def test_a_benchmark_by_mmpixpro_path_from_another_folder(demo_checkpoint, tmp_path):
    """``mmpixpro::benchmarks/...`` resolves (its ``mmdet::`` bases parsed
    without a pkg_resources warning); its data root, relative to the
    folder the command runs in, is missing: one line saying so."""
    config = 'mmpixpro::benchmarks/mmdet/' + osp.basename(MASK_RCNN_FPN)
    cmd = [sys.executable, osp.join(TOOLS, 'benchmarks', 'train.py'), config]
    line = one_line_error(
        run_cli(cmd + [demo_checkpoint], tmp_path, ok=False), 'train.py'
    )
    assert line == (
        "train.py: error: train_dataloader.dataset.data_root 'data/coco/' is not a "
        f'folder (relative to the folder the command runs in, {tmp_path}): put the '
        'data there (docs/en/user_guides/benchmarks.md shows each layout) or give '
        '--cfg-options train_dataloader.dataset.data_root=DIR'
    )
    # and the traceback on request
    for extra, env in [(['--debug'], {}), ([], {'MMPIXPRO_DEBUG': '1'})]:
        result = run_cli(cmd + [demo_checkpoint] + extra, tmp_path, ok=False, **env)
        assert result.returncode != 0 and 'Traceback' in result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith('FileNotFoundError: ')


@pytest.mark.parametrize(
    'args, message',
    [
        (
            ['--cfg-options', 'train_cfg.max_epochs=abc'],
            '--cfg-options train_cfg.max_epochs=abc: the config has '
            'train_cfg.max_epochs=40; give a number',
        ),
        (['--resume', 'missing.pth'], "--resume checkpoint 'missing.pth' not found"),
    ],
)
def test_a_bad_option_is_one_line(args, message, tmp_path):
    cmd = [sys.executable, osp.join(TOOLS, 'train.py'), DEMO_NAME, *args]
    assert one_line_error(run_cli(cmd, tmp_path, ok=False), 'train.py') == (
        f'train.py: error: {message}'
    )


def test_the_demo_by_name_from_another_folder(tmp_path):
    """The demo config by its name, from a folder without demo/: its photos
    are found from the config's folder. One process of batch 2 is not the
    lr's batch 4: the advice names this tool's option. The config switch
    publishes the last checkpoint (tests/test_tools/test_publish_model.py
    checks such a file)."""
    work_dir = tmp_path / 'work'
    result = run_cli(
        [
            sys.executable,
            osp.join(TOOLS, 'train.py'),
            DEMO_NAME,
            '--work-dir',
            work_dir,
            '--cfg-options',
            'train_cfg.max_epochs=1',
            'train_dataloader.num_workers=0',
            'train_dataloader.batch_size=2',
            'train_dataloader.dataset.indices=2',
            'default_hooks.publish.enable=True',
        ],
        tmp_path,
    )
    log = log_of(work_dir)
    assert osp.isfile(work_dir / 'epoch_1.pth')
    (published,) = glob.glob(str(work_dir / f'{DEMO_NAME}_*-*.pth'))
    assert f'published {published}: ' in log
    assert sorted(torch.load(published, weights_only=True)) == ['meta', 'state_dict']
    assert osp.join('demo', 'photos') in log
    assert (
        'total batch 2 (1 process x 2) is not the protocol batch 4 '
        '(auto_scale_lr.base_batch_size), and the lr is still the one set for 4: '
        'add --auto-scale-lr to scale it to 2 or run on 2 GPUs'
    ) in log
    assert 'Traceback' not in result.stderr and 'UserWarning' not in result.stderr


# -- under mmdet's / mmseg's own train.py ------------------------------------
def test_mmdet_train_py_shows_our_message_first(tmp_path):
    """A wrong ``load_from`` (missing; empty) under mmdet's train.py: the
    transfer hook's line, then mmdet's traceback."""
    config = toy_benchmark_config(MASK_RCNN_FPN, tmp_path)
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    for load_from, message in [
        (tmp_path / 'missing.pth', f"load_from '{tmp_path / 'missing.pth'}' not found"),
        (empty, f"cannot load '{empty}': the file ends before its data does"),
    ]:
        result = run_cli(
            [
                sys.executable,
                MMDET_TRAIN,
                config,
                '--work-dir',
                tmp_path / 'wd',
                '--cfg-options',
                f'load_from={load_from}',
            ],
            tmp_path,
            ok=False,
        )
        assert result.returncode != 0
        lines = result.stderr.splitlines()
        assert lines[0].startswith(f'train.py: error: {message}'), result.stderr[-3000:]
        assert lines[1] == 'Traceback (most recent call last):'


def test_mmdet_and_mmseg_train_py_advise_their_own_option(demo_checkpoint, tmp_path):
    """One process of batch 2 under the paper protocol's 16."""
    for name, train, config, option in [
        ('mmdet', MMDET_TRAIN, MASK_RCNN_FPN, '--auto-scale-lr'),
        ('mmseg', MMSEG_TRAIN, FCN, '--cfg-options auto_scale_lr.enable=True'),
    ]:
        work_dir = tmp_path / name
        path = toy_benchmark_config(config, tmp_path / f'{name}_data', train_only=True)
        result = run_cli(
            [
                sys.executable,
                train,
                path,
                '--work-dir',
                work_dir,
                '--cfg-options',
                f'load_from={demo_checkpoint}',
            ],
            tmp_path,
        )
        log = log_of(work_dir)
        assert (
            'total batch 2 (1 process x 2) is not the protocol batch 16 '
            '(auto_scale_lr.base_batch_size), and the lr is still the one set for '
            f'16: add {option} to scale it to 2 or run on 8 GPUs'
        ) in log, train
        assert 'Traceback' not in result.stderr


def test_our_tool_shows_no_library_noise(demo_checkpoint, tmp_path):
    """mmseg's deprecations (and the rest of LIBRARY_NOISE) are not shown by
    tools/benchmarks/train.py."""
    config = toy_benchmark_config(FCN, tmp_path)
    result = run_cli(
        [
            sys.executable,
            osp.join(TOOLS, 'benchmarks', 'train.py'),
            config,
            demo_checkpoint,
            '--smoke',
            '1',
            '--work-dir',
            tmp_path / 'wd',
        ],
        tmp_path,
    )
    assert 'mIoU' in log_of(tmp_path / 'wd')
    assert 'Warning' not in result.stderr, result.stderr[-3000:]


def test_each_library_warning_is_explained_where_it_appears():
    """docs/en/user_guides/downstream.md (fine-tuning with mmdet's / mmseg's
    own scripts) names each warning our tools hide."""
    with open(osp.join(REPO, 'docs', 'en', 'user_guides', 'downstream.md')) as f:
        page = f.read()
    for _, start in LIBRARY_NOISE:
        assert start in page, start


def test_mmdet_train_py_parses_our_configs_without_pkg_resources_warnings(tmp_path):
    """A benchmark config's ``mmdet::`` bases make mmengine import
    pkg_resources; setuptools < 80.9 (tools/install.sh) does not warn."""
    result = run_cli(
        [sys.executable, MMDET_TRAIN, MASK_RCNN_FPN, '--work-dir', tmp_path / 'wd'],
        tmp_path,
        ok=False,
    )
    assert 'data/coco/annotations' in result.stderr  # got as far as the data
    assert 'pkg_resources is deprecated' not in result.stderr
