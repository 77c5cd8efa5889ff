"""mmpixpro as an OpenMMLab package: requirements, model index, ``mmpixpro::``
configs, and installs into a fresh virtual environment driven by ``mim``."""

import glob
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import sysconfig

import pytest
import yaml
from conftest import REPO
from mmengine.config import Config
from packaging.requirements import Requirement

import mmpixpro
from mmpixpro.packaging import MIM_DIR, PACKAGE_DIR, config_file, load_config
from mmpixpro.registry import MODELS

C5_CONFIG = 'selfsup/pixpro_r50_c5_8xb128-coslr-100e_in1k.py'


def requirements(name: str) -> list:
    lines = open(osp.join(REPO, 'requirements', name)).read().splitlines()
    lines = [re.sub(r'(^|\s)#.*$', '', line).strip() for line in lines]
    return [Requirement(line) for line in lines if line]


def test_runtime_ranges_admit_the_make_pins():
    """runtime / optional / mim ranges, never exact pins, and the versions
    `make install` uses (pinned.txt) fall inside them."""
    pins = {}
    for req in requirements('pinned.txt') + requirements('pinned-nodeps.txt'):
        exact = [s.version for s in req.specifier if s.operator == '==']
        if exact:
            pins[req.name.lower()] = exact[0]
    pins['mmcv'] = '2.1.0'  # built by tools/install.sh
    checked = 0
    for name in ('runtime.txt', 'optional.txt', 'mminstall.txt', 'tests.txt'):
        for req in requirements(name):
            assert not any(s.operator == '==' for s in req.specifier), (name, req)
            pinned = pins.get(req.name.lower())
            if pinned is not None:
                assert req.specifier.contains(pinned), (name, str(req), pinned)
                checked += 1
    assert checked >= 7  # mmcv, mmengine (twice), mmdet, mmpretrain, mmseg, decoders


def test_torch_floor_is_required_and_checked_at_import():
    """The first torch with ``add_safe_globals`` (2.4), in the requirements
    and checked by ``import mmpixpro`` with one line."""
    (torch_req,) = [r for r in requirements('runtime.txt') if r.name == 'torch']
    assert torch_req.specifier.contains('2.4.0')
    assert not torch_req.specifier.contains('2.3.1')
    script = (
        'import torch\n'
        'from torch.torch_version import TorchVersion\n'
        "torch.__version__ = TorchVersion('2.3.1')  # what an older torch says\n"
        'import mmpixpro\n'
    )
    result = subprocess.run(
        [sys.executable, '-c', script], capture_output=True, text=True, timeout=300
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        'ImportError: mmpixpro needs torch >= 2.4 (to read checkpoints as data, '
        'with weights_only=True); this is torch 2.3.1: install a newer torch'
    )


def model_index() -> dict:
    """Every model of model-index.yml, by config path; checks each metafile."""
    index = yaml.safe_load(open(osp.join(REPO, 'model-index.yml')))
    models = {}
    for metafile in index['Import']:
        path = osp.join(REPO, metafile)
        assert osp.isfile(path), f'model-index.yml imports missing {metafile}'
        meta = yaml.safe_load(open(path))
        collections = {c['Name'] for c in meta['Collections']}
        for model in meta['Models']:
            assert model['In Collection'] in collections, (metafile, model['Name'])
            assert model['Config'] not in models, f'{model["Config"]} listed twice'
            models[model['Config']] = model
    names = [m['Name'] for m in models.values()]
    assert len(names) == len(set(names)), 'model names must be unique'
    return models


def test_model_index_lists_exactly_the_configs():
    """Every config of configs/selfsup and configs/benchmarks (not _base_) is
    in the model index, and every entry of the index exists."""
    present = {
        osp.relpath(p, REPO)
        for pattern in ('configs/selfsup/*.py', 'configs/benchmarks/**/*.py')
        for p in glob.glob(osp.join(REPO, pattern), recursive=True)
        if '_base_' not in osp.relpath(p, REPO).split(os.sep)
    }
    indexed = set(model_index())
    missing, stale = sorted(present - indexed), sorted(indexed - present)
    assert not missing and not stale, (
        f'configs missing from the model index: {missing}; '
        f'index entries without a config: {stale}'
    )


def test_mim_folder_links_to_the_repository():
    for name in ('configs', 'tools', 'demo', 'model-index.yml'):
        link = osp.join(PACKAGE_DIR, '.mim', name)
        assert osp.islink(link), f'{link} must be a link (copied into wheels)'
        assert osp.realpath(link) == osp.realpath(osp.join(REPO, name))


def test_mmpixpro_prefix_from_another_folder(tmp_path):
    """A downstream config inherits a PixPro config through ``mmpixpro::``
    (mmpixpro imported; this editable install is linked by tools/install.sh)
    and builds."""
    config = tmp_path / 'downstream' / 'my_pixpro.py'
    config.parent.mkdir()
    config.write_text(
        f"_base_ = 'mmpixpro::{C5_CONFIG}'\n"
        'model = dict(head=dict(pos_threshold=0.5),\n'
        "             backbone=dict(depth=18, norm_cfg=dict(type='BN')),\n"
        '             projector=dict(in_channels=512, hid_channels=64,\n'
        "                            norm_cfg=dict(type='BN')))\n"
    )
    assert mmpixpro.__file__.startswith(PACKAGE_DIR)
    cfg = Config.fromfile(str(config))
    base = Config.fromfile(config_file(f'mmpixpro::{C5_CONFIG}'))
    assert cfg.model.head.pos_threshold == 0.5
    assert base.model.head.pos_threshold == 0.7
    assert cfg.model.head.ppm == base.model.head.ppm
    assert (
        cfg.train_dataloader.dataset.pipeline == base.train_dataloader.dataset.pipeline
    )
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'PixPro' and model.head.pos_threshold == 0.5
    assert model.backbone.depth == 18
    # the names tools accept: a path or mmpixpro::<path under configs/>
    assert config_file(f'mmpixpro::{C5_CONFIG}') == osp.join(
        MIM_DIR, 'configs', C5_CONFIG
    )
    assert load_config(str(config)).model.head.pos_threshold == 0.5
    with pytest.raises(FileNotFoundError, match='nope.py'):
        config_file('mmpixpro::selfsup/nope.py')


def copy_project(dst: str) -> str:
    """The files an sdist of the project holds, copied (links kept)."""
    skip = shutil.ignore_patterns('__pycache__', '*.egg-info', 'work_dirs')
    os.makedirs(dst)
    for name in ('setup.py', 'MANIFEST.in', 'README.md', 'model-index.yml'):
        shutil.copy(osp.join(REPO, name), dst)
    for name in ('mmpixpro', 'configs', 'tools', 'requirements', 'demo'):
        shutil.copytree(
            osp.join(REPO, name), osp.join(dst, name), symlinks=True, ignore=skip
        )
    return dst


def fresh_venv(path: str) -> str:
    """A new virtual environment that also sees this one's packages but not
    its mmpixpro (``make install`` links it into site-packages, where it
    would be found before the new venv's editable finder): the parent's
    site-packages is mirrored by links, mmpixpro's entries left out, and the
    mirror appended to the new path (its own packages come first)."""
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', path], check=True)
    python = osp.join(path, 'bin', 'python')
    site = subprocess.run(
        [python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    mirror = osp.join(path, 'parent_site')
    os.makedirs(mirror)
    for parent in sorted({sysconfig.get_paths()[k] for k in ('purelib', 'platlib')}):
        for name in os.listdir(parent):
            own = name == 'mmpixpro' or name.startswith(('mmpixpro-', '__editable__'))
            if not own and not name.endswith('.pth'):
                target = osp.join(mirror, name)
                if not osp.lexists(target):
                    os.symlink(osp.join(parent, name), target)
    with open(osp.join(site, 'parent_site.pth'), 'w') as f:
        f.write(mirror + '\n')
    return python


def run(cmd: list, cwd: str, ok: bool = True) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONHOME')}
    env.update(PIP_NO_INDEX='1', PIP_DISABLE_PIP_VERSION_CHECK='1')
    cmd = [str(c) for c in cmd]
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    if ok:
        assert proc.returncode == 0, f'{" ".join(cmd)} failed:\n{out[-4000:]}'
    else:
        assert proc.returncode != 0, out[-4000:]
    return out


# the venv's mim command line, run by the interpreter of a fresh venv
MIM = osp.join(osp.dirname(sys.executable), 'mim')

RESOLVE = (
    'import mmpixpro\n'
    'from mmengine.config import Config\n'
    'from mmengine.utils import get_installed_path\n'
    "cfg = Config.fromfile('downstream.py')\n"
    "print('package', get_installed_path('mmpixpro'))\n"
    "print('threshold', cfg.model.head.pos_threshold, cfg.model.backbone.depth)\n"
)


@pytest.mark.slow
def test_install_into_fresh_venv_and_mim(tmp_path, demo_checkpoint):
    """pip install (no downloads) into a fresh venv; mmpixpro:: resolves from
    the installed copy; mim finds the configs, the train / misc scripts and
    the demo photos. Then an editable install, linked as tools/install.sh
    links it: the same mim commands work, and pip uninstall removes the
    link."""
    src = copy_project(str(tmp_path / 'src'))
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'downstream.py').write_text(
        f"_base_ = 'mmpixpro::{C5_CONFIG}'\n"
        'model = dict(head=dict(pos_threshold=0.5))\n'
    )
    pip_args = ['-m', 'pip', 'install', '-q', '--no-deps', '--no-build-isolation']
    pip_args.append('--use-pep517')  # setuptools of this environment: no download

    # regular install: configs and tools are copied into site-packages
    python = fresh_venv(str(tmp_path / 'venv'))
    run([python, *pip_args, src], cwd=str(work))
    installed = run(
        [python, '-c', 'import mmpixpro; print(mmpixpro.__file__)'], str(work)
    )
    package = osp.dirname(installed.strip().splitlines()[-1])
    assert package.startswith(str(tmp_path / 'venv'))
    assert not osp.islink(osp.join(package, '.mim', 'configs'))
    out = run([python, '-c', RESOLVE], cwd=str(work))
    assert f'package {package}\n' in out and 'threshold 0.5 50' in out

    out = run([python, MIM, 'search', 'mmpixpro', '--field', 'config'], str(work))
    assert out.count('config id:') == len(model_index())

    print_config = osp.join(package, '.mim', 'tools', 'misc', 'print_config.py')
    out = run(
        [
            python,
            '-m',
            'mim',
            'run',
            'mmpixpro',
            'print_config',
            f'mmpixpro::{C5_CONFIG}',
            '--cfg-options',
            'model.head.pos_threshold=0.25',
        ],
        cwd=str(work),
    )
    assert f'Use the script {print_config}' in out and 'pos_threshold=0.25' in out

    out = mim_train_demo(python, work / 'wd')
    # the shipped photos: the demo config's data_root is its folder's
    photos = osp.join(package, '.mim', 'configs', 'selfsup', '../../demo/photos')
    assert f"'{photos}'" in out
    assert osp.join(package, '.mim', 'tools', 'train.py') in out

    # editable install, linked as tools/install.sh links it: mmengine's own
    # get_installed_path finds <site-packages>/mmpixpro, the source package
    python = fresh_venv(str(tmp_path / 'venv_editable'))
    run([python, *pip_args, '-e', src], cwd=str(work))
    with open(osp.join(REPO, 'tools', 'install.sh')) as f:
        link = re.search(
            r'"\$PY" -c \'(import mmpixpro.packaging.*)\'$', f.read(), re.M
        )
    run([python, '-c', link.group(1)], cwd=str(work))
    site = run([python, '-c', SITE], cwd=str(work)).strip()
    linked = osp.realpath(osp.join(site, 'mmpixpro'))
    assert linked == osp.realpath(osp.join(src, 'mmpixpro'))
    out = run([python, '-c', RESOLVE], cwd=str(work))
    assert f'package {osp.join(site, "mmpixpro")}\n' in out
    assert 'threshold 0.5 50' in out
    out = run([python, MIM, 'search', 'mmpixpro', '--field', 'config'], str(work))
    assert out.count('config id:') == len(model_index())
    config = 'mmpixpro::benchmarks/mmdet/fcos_r50_fpn_gn-head_1x_coco_mmdet-default.py'
    failed = run(
        [python, MIM, 'run', 'mmpixpro', 'benchmarks:train', config, demo_checkpoint],
        cwd=str(work),
        ok=False,
    )
    # the tool ran, resolved mmpixpro::, and stopped at the data (none here)
    assert (
        "train.py: error: train_dataloader.dataset.data_root 'data/coco/' is not "
        f'a folder (relative to the folder the command runs in, {work})'
    ) in failed
    out = mim_train_demo(python, work / 'wd_editable')
    assert osp.join(site, 'mmpixpro', '.mim', 'tools', 'train.py') in out
    run([python, '-m', 'pip', 'uninstall', '-y', 'mmpixpro'], cwd=str(work))
    assert not osp.lexists(osp.join(site, 'mmpixpro'))


SITE = 'import sysconfig; print(sysconfig.get_paths()["purelib"])'


def mim_train_demo(python: str, work_dir) -> str:
    """``mim train mmpixpro`` of the demo config by file name, one
    iteration, from ``work_dir``'s parent (no demo/ there)."""
    demo = 'pixpro_r18_c5_1xb4-coslr-40e_demo.py'
    out = run(
        [
            python,
            MIM,
            'train',
            'mmpixpro',
            demo,
            '--gpus',
            '0',
            '--work-dir',
            str(work_dir),
            '--cfg-options',
            'train_dataloader.dataset.indices=2',
            'train_dataloader.batch_size=2',
            'train_dataloader.num_workers=0',
            'train_cfg.max_epochs=1',
        ],
        cwd=str(work_dir.parent),
    )
    assert f'configs{os.sep}selfsup{os.sep}{demo}' in out
    assert 'Training finished successfully' in out
    assert osp.isfile(work_dir / 'epoch_1.pth')
    return out
