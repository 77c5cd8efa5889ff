"""tools/model_converters: checkpoints of the authors' release come in,
backbones go out to torchvision and detectron2.

The authors' format is generated here from its description (their module
names, a torchvision ResNet encoder, their ``MLP2d`` heads, the training
checkpoint's other entries); the expected names on the other side are
written here independently of the converters' code.
"""

import argparse
import glob
import json
import os
import os.path as osp
import pickle
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torchvision
from conftest import REPO
from helpers import PayloadOnLoad, load_tool, tiny_config
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope

from mmpixpro.benchmarks import transfer_weights
from mmpixpro.benchmarks.official_checkpoint import OfficialCheckpointError
from mmpixpro.benchmarks.transfer import find_hook_cfg
from mmpixpro.engine.checkpoint_digest import tensor_digest
from mmpixpro.registry import MODELS
from mmpixpro.testing import coco_split_folders, small_benchmark_config, toy_data
from mmpixpro.utils.atomic_file import OutputExistsError

SELFSUP = osp.join(REPO, 'configs', 'selfsup')
MASK_FPN = osp.join(
    REPO,
    'configs',
    'benchmarks',
    'mmdet',
    'mask-rcnn_r50_fpn_8xb2-ms-90k_coco_paper-protocol.py',
)
HIDDEN = 64  # tiny_config's projector width


# -- the authors' format --------------------------------------------------------


def mlp2d(prefix, cin, hidden, cout):
    """The release's two-layer head: linear1 (1x1 conv + bias), bn1, linear2."""
    return {
        f'{prefix}linear1.weight': torch.randn(hidden, cin, 1, 1),
        f'{prefix}linear1.bias': torch.randn(hidden),
        f'{prefix}bn1.weight': torch.randn(hidden),
        f'{prefix}bn1.bias': torch.randn(hidden),
        f'{prefix}bn1.running_mean': torch.randn(hidden),
        f'{prefix}bn1.running_var': torch.rand(hidden) + 0.5,
        f'{prefix}bn1.num_batches_tracked': torch.tensor(7),
        f'{prefix}linear2.weight': torch.randn(cout, hidden, 1, 1),
        f'{prefix}linear2.bias': torch.randn(cout),
    }


def release_model(layers=1, instance=False, arch='resnet18'):
    """A state dict of the release's DDP-wrapped PixPro model."""
    resnet = getattr(torchvision.models, arch)(weights=None).state_dict()
    encoder = {k: torch.randn_like(v.float()).to(v.dtype) for k, v in resnet.items()}
    channels = resnet['fc.weight'].shape[1]
    model = OrderedDict()
    for name, value in encoder.items():
        if not name.startswith('fc.'):  # the release's encoder stops at C5
            model[f'module.encoder.{name}'] = value
            model[f'module.encoder_k.{name}'] = value + 1
    model.update(mlp2d('module.projector.', channels, HIDDEN, 256))
    model.update(mlp2d('module.projector_k.', channels, HIDDEN, 256))
    if layers == 1:
        model['module.value_transform.weight'] = torch.randn(256, 256, 1, 1)
        model['module.value_transform.bias'] = torch.randn(256)
    elif layers == 2:
        model.update(mlp2d('module.value_transform.', 256, 256, 256))
    if instance:
        model.update(mlp2d('module.projector_instance.', channels, HIDDEN, 256))
        model.update(mlp2d('module.projector_instance_k.', channels, HIDDEN, 256))
        model.update(mlp2d('module.predictor.', 256, HIDDEN, 256))
    return model


def release_checkpoint(model, opt=None):
    """A training checkpoint of the release: options, model, optimizer,
    scheduler, epoch, apex amp state."""
    params = [torch.zeros(3, requires_grad=True)]
    optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    params[0].grad = torch.ones(3)
    optimizer.step()
    if opt is None:
        opt = argparse.Namespace(
            arch='resnet18',
            model='PixPro',
            epochs=100,
            batch_size=128,
            lr_decay_epochs=[120, 160, 200],
            pixpro_transform_layer=1,
            pixpro_p=2.0,
            pixpro_pos_ratio=0.7,
            output_dir='./output',
        )
    return {
        'opt': opt,
        'model': model,
        'optimizer': optimizer.state_dict(),
        'scheduler': {
            'T_max': 1000,
            'eta_min': 1e-6,
            'base_lrs': [0.1],
            'last_epoch': 500,
            'after_scheduler': {'last_epoch': 400, '_step_count': 401},
        },
        'epoch': 100,
        'amp': OrderedDict(loss_scaler0={'loss_scale': 65536.0, 'unskipped': 12}),
    }


def save(obj, path, legacy):
    """torch.save; ``legacy``: the pre-1.6 format the release (torch 1.4)
    wrote."""
    torch.save(obj, str(path), _use_new_zipfile_serialization=not legacy)
    return str(path)


def build_detector(cfg):
    from mmengine.registry import MODELS as ROOT_MODELS

    import mmpixpro.benchmarks  # noqa: F401  (what custom_imports does)

    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        init_default_scope(cfg.default_scope)
        model = ROOT_MODELS.build(cfg.model)
    model.init_weights()
    return model


def our_model(config):
    cfg = tiny_config(osp.join(SELFSUP, config), '/tmp/unused')
    return build_pixpro(cfg)


def build_pixpro(cfg):
    # other tests leave mmdet / mmseg as the current default scope
    with DefaultScope.overwrite_default_scope('mmpixpro'):
        return MODELS.build(cfg.model)


# -- release -> mmpixpro -----------------------------------------------------------

CASES = {
    'l1': ('pixpro_r50_c5_8xb128-coslr-100e_in1k.py', 1, False),
    'l0': ('pixpro-l0_r50_c5_8xb128-coslr-100e_in1k.py', 0, False),
    'l2': ('pixpro-l2_r50_c5_8xb128-coslr-100e_in1k.py', 2, False),
    'instance': ('pixpro-inst-byol_r50_c5_8xb128-coslr-100e_in1k.py', 1, True),
}


@pytest.mark.parametrize(
    'case, legacy',
    [('l1', False), ('l1', True), ('l0', False), ('l2', True), ('instance', False)],
)
def test_release_checkpoint_loads_into_our_model(case, legacy, tmp_path):
    config, layers, instance = CASES[case]
    model = release_model(layers, instance)
    src = save(release_checkpoint(model), tmp_path / 'release.pth', legacy)
    dst = str(tmp_path / 'ours.pth')
    load_tool('tools/model_converters/pixpro_official_to_mmpixpro.py').main([src, dst])

    converted = torch.load(dst, weights_only=True)
    state = converted['state_dict']
    assert len(state) == len(model)  # nothing dropped, nothing invented
    ours = our_model(config)
    missing, unexpected = ours.load_state_dict(state, strict=False)
    # the release keeps no step counter of its momentum schedule
    assert missing == ['target_net.steps'] and unexpected == []
    loaded = ours.state_dict()
    for key, value in state.items():
        assert torch.equal(loaded[key], value), key
    for name, value in model.items():  # encoder -> backbone, same names
        if name.startswith('module.encoder.'):
            assert torch.equal(state['backbone.' + name[15:]], value)
    assert converted['meta']['epoch'] == 100
    assert converted['meta']['release_options']['lr_decay_epochs'] == [120, 160, 200]
    # written with the digest of its tensors, which mmpixpro's reader checks
    assert converted['meta']['tensor_sha256'] == tensor_digest(converted)


def test_published_checkpoint_without_training_state(tmp_path):
    """Published models keep only {'model'}; keys without DDP's module."""
    model = {k[len('module.') :]: v for k, v in release_model().items()}
    src = save({'model': model}, tmp_path / 'published.pth', legacy=False)
    dst = str(tmp_path / 'ours.pth')
    load_tool('tools/model_converters/pixpro_official_to_mmpixpro.py').main([src, dst])
    state = torch.load(dst, weights_only=True)['state_dict']
    missing, unexpected = our_model(CASES['l1'][0]).load_state_dict(state, strict=False)
    assert missing == ['target_net.steps'] and unexpected == []


@pytest.mark.payload
@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy-format'])
def test_pickled_code_in_the_release_format_is_refused(legacy, tmp_path):
    marker = tmp_path / 'payload-ran'
    src = save(
        release_checkpoint(release_model(), opt=PayloadOnLoad(marker)),
        tmp_path / 'evil.pth',
        legacy,
    )
    tool = load_tool('tools/model_converters/pixpro_official_to_mmpixpro.py')
    with pytest.raises(
        OfficialCheckpointError, match=r'holds (builtins|io)\.open, which is code'
    ):
        tool.main([src, str(tmp_path / 'out.pth')])
    assert not marker.exists()
    assert not (tmp_path / 'out.pth').exists()


def test_not_a_release_checkpoint(tmp_path):
    tool = load_tool('tools/model_converters/pixpro_official_to_mmpixpro.py')
    out = str(tmp_path / 'out.pth')
    with pytest.raises(FileNotFoundError):
        tool.main([str(tmp_path / 'nope.pth'), out])
    ours = save(
        {'state_dict': {'backbone.conv1.weight': torch.zeros(1)}},
        tmp_path / 'a.pth',
        False,
    )
    with pytest.raises(OfficialCheckpointError, match="no 'model'"):
        tool.main([ours, out])
    model = release_model()
    model['module.queue'] = torch.zeros(3)  # a module this project does not have
    strange = save({'model': model}, tmp_path / 'b.pth', False)
    with pytest.raises(OfficialCheckpointError, match='module.queue'):
        tool.main([strange, out])
    assert not osp.exists(out)


def test_converted_release_checkpoint_finetunes(tmp_path):
    """Converted, then two iterations of the paper-protocol Mask R-CNN FPN
    on generated COCO through tools/benchmarks/train.py."""
    model = release_model()
    src = save(release_checkpoint(model), tmp_path / 'release.pth', legacy=True)
    ckpt = str(tmp_path / 'ours.pth')
    load_tool('tools/model_converters/pixpro_official_to_mmpixpro.py').main([src, ckpt])

    anns = toy_data.make_coco(str(tmp_path / 'coco'))
    cfg = small_benchmark_config(
        Config.fromfile(MASK_FPN),
        str(tmp_path / 'coco'),
        (128, 96),
        val_ann=anns['val2017'],
        dataset_edit=coco_split_folders,
    )
    cfg.visualizer.name = f'visualizer_{tmp_path.name}'
    # The release's encoder is what the detector's backbone starts from.
    detector = build_detector(cfg)
    hook = find_hook_cfg(cfg)
    report = transfer_weights(detector, ckpt, hook.rules)
    own = detector.state_dict()
    for name, value in model.items():
        if name.startswith('module.encoder.'):
            assert torch.equal(own['backbone.' + name[15:]], value), name
    assert not report['modules']['backbone']['fresh']

    config_file = str(tmp_path / 'config.py')
    cfg.dump(config_file)
    work_dir = str(tmp_path / 'work')
    load_tool('tools/benchmarks/train.py').main(
        [config_file, ckpt, '--work-dir', work_dir]
    )
    with open(osp.join(work_dir, 'transfer_report.json')) as f:
        saved = json.load(f)
    assert len(saved['modules']['backbone']['loaded']) == sum(
        k.startswith('module.encoder.') for k in model
    )
    assert saved['notes'] == ['neck.* starts fresh: the checkpoint has no neck.*']
    scalars = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    lines = [json.loads(line) for line in open(scalars[0])]
    assert max(line.get('iter', 0) for line in lines) == 2
    assert any('coco/bbox_mAP' in line for line in lines)


# -- mmpixpro -> torchvision / detectron2 ------------------------------------------


@pytest.fixture(scope='module')
def r50_checkpoint(tmp_path_factory):
    """A checkpoint of our ResNet-50 PixPro model (online and target
    backbones differ)."""
    cfg = Config.fromfile(osp.join(SELFSUP, 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'))
    backbone = MODELS.build(cfg.model.backbone)
    state = OrderedDict()
    for key, value in backbone.state_dict().items():
        noise = torch.randn_like(value.float()).to(value.dtype)
        state['backbone.' + key] = noise
        state['target_net.module.backbone.' + key] = noise + 1
    state['projector.projector.1.bias'] = torch.zeros(256)
    path = str(tmp_path_factory.mktemp('r50') / 'pixpro.pth')
    torch.save({'meta': {}, 'state_dict': state}, path)
    return path, state


@pytest.mark.parametrize('target', [False, True], ids=['online', 'target'])
def test_torchvision_export_loads_strictly(r50_checkpoint, target, tmp_path):
    path, state = r50_checkpoint
    out = str(tmp_path / 'resnet50.pth')
    tool = load_tool('tools/model_converters/mmpixpro_to_torchvision.py')
    tool.main([path, out] + (['--target'] if target else []))
    exported = torch.load(out, weights_only=True)
    resnet = torchvision.models.resnet50(weights=None)
    resnet.fc = torch.nn.Identity()  # the classifier is not pre-trained
    resnet.load_state_dict(exported, strict=True)
    prefix = 'target_net.module.backbone.' if target else 'backbone.'
    for key, value in resnet.state_dict().items():
        assert torch.equal(value, state[prefix + key]), key
    plain = torchvision.models.resnet50(weights=None)
    missing, unexpected = plain.load_state_dict(exported, strict=False)
    assert sorted(missing) == ['fc.bias', 'fc.weight'] and not unexpected


def test_torchvision_export_of_a_resnet18_and_bad_input(tmp_path):
    cfg = tiny_config(osp.join(SELFSUP, CASES['l1'][0]), str(tmp_path))
    model = build_pixpro(cfg)
    path = str(tmp_path / 'r18.pth')
    torch.save({'state_dict': model.state_dict()}, path)
    tool = load_tool('tools/model_converters/mmpixpro_to_torchvision.py')
    tool.main([path, str(tmp_path / 'r18_tv.pth')])
    resnet = torchvision.models.resnet18(weights=None)
    resnet.fc = torch.nn.Identity()
    resnet.load_state_dict(torch.load(str(tmp_path / 'r18_tv.pth')), strict=True)
    # no backbone.* / not a ResNet
    torch.save({'state_dict': {'neck.x': torch.zeros(1)}}, str(tmp_path / 'n.pth'))
    with pytest.raises(KeyError, match='backbone'):
        tool.main([str(tmp_path / 'n.pth'), str(tmp_path / 'x.pth')])
    torch.save({'state_dict': {'backbone.w': torch.zeros(1)}}, str(tmp_path / 'w.pth'))
    with pytest.raises(ValueError, match='not a torchvision-layout ResNet'):
        tool.main([str(tmp_path / 'w.pth'), str(tmp_path / 'x.pth')])
    assert not osp.exists(str(tmp_path / 'x.pth'))


def detectron2_names(torchvision_name):
    """detectron2's ResNet name of a torchvision one, from detectron2's
    naming: stem.conv1 (+ .norm), res2..res5, convK.norm, shortcut."""
    parts = torchvision_name.split('.')
    if parts[0] in ('conv1', 'bn1'):
        layer = 'stem.conv1' if parts[0] == 'conv1' else 'stem.conv1.norm'
        return '.'.join([layer, *parts[1:]])
    stage = 'res' + str(int(parts[0][len('layer') :]) + 1)
    block, layer, rest = parts[1], parts[2], parts[3:]
    if layer == 'downsample':
        layer = 'shortcut' if rest[0] == '0' else 'shortcut.norm'
        rest = rest[1:]
    elif layer.startswith('bn'):
        layer = 'conv' + layer[2:] + '.norm'
    return '.'.join([stage, block, layer, *rest])


def test_detectron2_export_reads_back(r50_checkpoint, tmp_path):
    path, state = r50_checkpoint
    out = str(tmp_path / 'pixpro_r50.pkl')
    load_tool('tools/model_converters/mmpixpro_to_detectron2.py').main([path, out])
    with open(out, 'rb') as f:
        d2 = pickle.load(f)  # a plain pickle, as detectron2 reads it
    assert d2['matching_heuristics'] is True and isinstance(d2['__author__'], str)
    expected = {
        detectron2_names(k[len('backbone.') :]): v
        for k, v in state.items()
        if k.startswith('backbone.')
    }
    assert set(d2['model']) == set(expected)
    for name, array in d2['model'].items():
        assert isinstance(array, np.ndarray), name
        np.testing.assert_array_equal(array, expected[name].numpy(), err_msg=name)
    for name in (  # a few of detectron2's ResNet-50 names, spelled out
        'stem.conv1.weight',
        'stem.conv1.norm.running_var',
        'res2.0.shortcut.weight',
        'res2.0.shortcut.norm.bias',
        'res3.3.conv2.norm.weight',
        'res5.2.conv3.weight',
    ):
        assert name in d2['model'], name
    assert not any('layer' in n or 'bn' in n or 'downsample' in n for n in d2['model'])


# -- what every converter guarantees about its output ---------------------------

CONVERTERS = {
    'release': 'tools/model_converters/pixpro_official_to_mmpixpro.py',
    'torchvision': 'tools/model_converters/mmpixpro_to_torchvision.py',
    'detectron2': 'tools/model_converters/mmpixpro_to_detectron2.py',
}


def converter_input(kind, folder):
    """A checkpoint each converter accepts: the release's format, or a
    ResNet-18 backbone in our names."""
    path = str(folder / f'{kind}_in.pth')
    if kind == 'release':
        return save(release_checkpoint(release_model()), path, legacy=False)
    resnet = torchvision.models.resnet18(weights=None).state_dict()
    state = {'backbone.' + k: v for k, v in resnet.items() if not k.startswith('fc.')}
    torch.save({'meta': {}, 'state_dict': state}, path)
    return path


def file_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


@pytest.mark.parametrize('kind', list(CONVERTERS))
def test_the_output_is_never_the_input(kind, tmp_path):
    """Same path, a path through '..', a symbolic and a hard link: refused,
    with --overwrite too, and the input is left as it was."""
    src = converter_input(kind, tmp_path)
    before = file_bytes(src)
    (tmp_path / 'sub').mkdir()
    os.symlink(src, str(tmp_path / 'alias.pth'))
    os.link(src, str(tmp_path / 'hard.pth'))
    tool = load_tool(CONVERTERS[kind])
    for dst in (
        src,
        str(tmp_path / 'sub' / '..' / osp.basename(src)),
        str(tmp_path / 'alias.pth'),
        str(tmp_path / 'hard.pth'),
    ):
        for extra in ([], ['--overwrite']):
            with pytest.raises(OutputExistsError, match='is the input'):
                tool.main([src, dst, *extra])
    assert file_bytes(src) == before


@pytest.mark.parametrize('kind', list(CONVERTERS))
def test_an_existing_output_is_replaced_only_when_asked(kind, tmp_path, capsys):
    src = converter_input(kind, tmp_path)
    dst = tmp_path / 'out.bin'
    dst.write_bytes(b'previous')
    tool = load_tool(CONVERTERS[kind])
    with pytest.raises(OutputExistsError, match='exists.*--overwrite'):
        tool.main([src, str(dst)])
    assert dst.read_bytes() == b'previous'
    capsys.readouterr()
    tool.main([src, str(dst), '--overwrite'])
    assert len(dst.read_bytes()) > 10000
    out, err = capsys.readouterr()
    for stage in ('reading', 'converting', 'writing'):  # progress, stage by stage
        assert stage in out, out
    assert 'task/s' in err  # mmengine's progress bar over the tensors
    assert sorted(os.listdir(tmp_path)) == sorted([osp.basename(src), 'out.bin'])


@pytest.mark.parametrize('kind', list(CONVERTERS))
def test_the_output_folder_is_made_or_refused_before_the_work(kind, tmp_path):
    src = converter_input(kind, tmp_path)
    tool = load_tool(CONVERTERS[kind])
    nested = tmp_path / 'new' / 'deeper' / 'out.bin'
    tool.main([src, str(nested)])  # created
    assert nested.is_file()
    # a folder that cannot be made: refused before the (missing) input is read
    (tmp_path / 'file').write_text('')
    with pytest.raises(OSError, match='cannot create the output folder'):
        tool.main([str(tmp_path / 'missing.pth'), str(tmp_path / 'file' / 'x' / 'o')])
    # a conversion that fails leaves no folder behind
    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(b'not a checkpoint')
    with pytest.raises((OfficialCheckpointError, RuntimeError)):
        tool.main([str(garbage), str(tmp_path / 'made' / 'for' / 'out.bin')])
    assert not (tmp_path / 'made').exists()


FULL_DISK = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
tool = sys.argv[1]
sys.argv = sys.argv[1:]
exec(compile(open(tool).read(), tool, 'exec'))
"""


def test_a_failed_write_leaves_the_previous_output(tmp_path):
    """The release converter in a process whose files may not grow past
    1 MiB (the fault a full disk or quota gives, mid-write): one line naming
    the file and why, the previous output intact, no temporary file."""
    src = converter_input('release', tmp_path)
    dst = tmp_path / 'out' / 'ours.pth'
    dst.parent.mkdir()
    dst.write_bytes(b'previous')
    proc = subprocess.run(
        [
            sys.executable,
            '-c',
            FULL_DISK,
            CONVERTERS['release'],
            src,
            str(dst),
            '--overwrite',
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr
    error = proc.stderr.strip().splitlines()[-1]
    assert error.startswith('pixpro_official_to_mmpixpro.py: error: could not write')
    assert 'ours.pth' in error and 'File too large' in error
    assert dst.read_bytes() == b'previous'
    assert os.listdir(dst.parent) == ['ours.pth']


def test_a_release_file_with_half_its_tensors_is_refused(tmp_path):
    tool = load_tool(CONVERTERS['release'])
    model = release_model()
    for name, keys in (
        ('first-half', list(model)[: len(model) // 2]),
        ('second-half', list(model)[len(model) // 2 :]),
        ('no-layer4', [k for k in model if '.layer4.' not in k]),
        ('no-target-layer3', [k for k in model if 'encoder_k.layer3.' not in k]),
        ('no-bn-stats', [k for k in model if 'projector_k.bn1.running' not in k]),
    ):
        src = save({'model': {k: model[k] for k in keys}}, tmp_path / name, False)
        out = str(tmp_path / f'{name}.out')
        with pytest.raises(OfficialCheckpointError, match='not a whole checkpoint'):
            tool.main([src, out])
        assert not osp.exists(out)
    # half an instance branch
    model = release_model(instance=True)
    partial = {k: v for k, v in model.items() if 'predictor' not in k}
    src = save({'model': partial}, tmp_path / 'inst.pth', False)
    with pytest.raises(OfficialCheckpointError, match='instance branch'):
        tool.main([src, str(tmp_path / 'inst.out')])


def test_two_keys_for_one_tensor_are_refused(tmp_path):
    """'module.encoder.conv1.weight' and 'encoder.conv1.weight' both become
    backbone.conv1.weight: the last would silently win."""
    model = release_model()
    model['encoder.conv1.weight'] = torch.zeros_like(
        model['module.encoder.conv1.weight']
    )
    src = save({'model': model}, tmp_path / 'twice.pth', False)
    tool = load_tool(CONVERTERS['release'])
    with pytest.raises(
        OfficialCheckpointError, match='both become .backbone.conv1.weight'
    ):
        tool.main([src, str(tmp_path / 'out.pth')])
    assert not (tmp_path / 'out.pth').exists()
