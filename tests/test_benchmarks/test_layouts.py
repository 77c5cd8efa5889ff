"""Published checkpoints in every layout load through the transfer hook's
loader into the models mmdet / mmseg build from our benchmark configs, with
no conversion step: the backbone then computes what the source network
computes (max |d| <= 1e-5, float32, one batch), and the report names the
layout and what of the file was not loaded. Files in no layout, in two, or
holding code, stop with one line."""

import os
import os.path as osp
import pickle
import re
import subprocess

import pytest
import torch
from conftest import REPO
from helpers import PayloadOnLoad, load_tool
from layout_sources import SOURCES, resnet18
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope

from mmpixpro.benchmarks import TransferError, transfer_weights
from mmpixpro.benchmarks.layouts import LAYOUTS, LayoutError, detectron2_name
from mmpixpro.benchmarks.layouts.detectron2 import FROM_DETECTRON2
from mmpixpro.benchmarks.transfer import find_hook_cfg, load_pretrained
from mmpixpro.testing import shrink_config

BENCH = osp.join(REPO, 'configs', 'benchmarks')
MASK_FPN = osp.join(
    BENCH, 'mmdet', 'mask-rcnn_r50_fpn_8xb2-ms-90k_coco_paper-protocol.py'
)
VOC_C4 = osp.join(
    BENCH, 'mmdet', 'faster-rcnn_r50-c4_8xb2-ms-24k_voc0712_paper-protocol.py'
)
FCN = osp.join(
    BENCH, 'mmseg', 'fcn-d6_r50-d16_8xb2-90k_cityscapes-769x769_paper-protocol.py'
)
TARGETS = (MASK_FPN, VOC_C4, FCN)
TOLERANCE = 1e-5


def build(config):
    """The benchmark config's model (ResNet-18, small heads), in eval mode."""
    from mmengine.registry import MODELS

    import mmpixpro.benchmarks  # noqa: F401  (what custom_imports does)

    cfg = shrink_config(Config.fromfile(config), small_heads=True)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        init_default_scope(cfg.default_scope)
        model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    return cfg, model


def stages(net, x, dilate_c5=False):
    """C2-C5 of a torchvision-style ResNet (torchvision's, timm's,
    mmpretrain's); ``dilate_c5``: the last stage at stride 1, dilation 2
    (mmseg's ``dilations=(1, 1, 1, 2)``, every block dilated), on a copy."""
    import copy

    act = getattr(net, 'relu', None) or net.act1
    x = net.maxpool(act(net.bn1(net.conv1(x))))
    outs = []
    for i in range(1, 5):
        layer = getattr(net, f'layer{i}')
        if dilate_c5 and i == 4:
            layer = copy.deepcopy(layer)
            for block in layer:  # basic blocks: the first 3x3 conv dilates
                block.conv1.stride, block.conv1.dilation = (1, 1), (2, 2)
                block.conv1.padding = (2, 2)
                if block.downsample is not None:
                    block.downsample[0].stride = (1, 1)
        x = layer(x)
        outs.append(x)
    return outs


def max_diff(a, b):
    assert a.shape == b.shape, (a.shape, b.shape)
    return (a - b).abs().max().item()


def compare_backbone(config, model, reference, x):
    """Max |d| of each stage the model computes against the reference."""
    with torch.no_grad():
        if config == VOC_C4:  # C2-C4 in the backbone, res5 in the RoI head
            ref = stages(reference, x)
            (c4,) = model.backbone(x)
            c5 = model.roi_head.shared_head.layer4(c4)
            return [max_diff(c4, ref[2]), max_diff(c5, ref[3])]
        ref = stages(reference, x, dilate_c5=config == FCN)
        return [max_diff(a, b) for a, b in zip(model.backbone(x), ref)]


@pytest.fixture(scope='module')
def targets():
    """The benchmark models, built once: each load below replaces every
    backbone tensor (and the C4 detector's res5), which is all the
    comparison reads."""
    built = {}

    def get(config):
        if config not in built:
            built[config] = build(config)
        return built[config]

    return get


@pytest.mark.parametrize('name', sorted(SOURCES))
def test_each_layout_loads_into_the_benchmark_models_unconverted(
    name, targets, tmp_path
):
    source = SOURCES[name](str(tmp_path))
    config = TARGETS[sorted(SOURCES).index(name) % len(TARGETS)]
    cfg, model = targets(config)
    hook = find_hook_cfg(cfg)
    report = transfer_weights(model, source.path, hook.rules, hook.get('fresh', ()))
    assert source.layout in report['layout'], report['layout']
    assert report['layout_source']
    notes = ' | '.join(report['notes'])
    for part in source.not_loaded:
        assert part in notes, (part, notes)
    fresh = report['modules']['backbone']['fresh']
    assert all(k.endswith('num_batches_tracked') for k in fresh), fresh
    torch.manual_seed(0)
    x = torch.randn(2, 3, 64, 64)
    source.reference.eval()  # mmpretrain's ResNet.train returns None
    source.reference.to(memory_format=torch.contiguous_format)  # as the model
    diffs = compare_backbone(config, model, source.reference, x)
    assert max(diffs) <= TOLERANCE, diffs


def test_a_layout_that_matches_partly_names_what_is_missing(tmp_path):
    """A torchvision file without res5: the C4 detector stops naming the
    missing tensors, unless the config lets them start fresh."""
    net = resnet18(1)
    path = str(tmp_path / 'no_layer4.pth')
    torch.save({k: v for k, v in net.state_dict().items() if 'layer4' not in k}, path)
    cfg, model = build(VOC_C4)
    rules = find_hook_cfg(cfg).rules
    with pytest.raises(TransferError) as info:
        transfer_weights(model, path, rules)
    message = str(info.value)
    assert 'torchvision / timm ResNet state dict' in message
    assert "the checkpoint has no 'backbone.layer4.' tensors" in message
    cfg, model = build(MASK_FPN)
    rules = find_hook_cfg(cfg).rules
    with pytest.raises(TransferError, match=r'backbone\.layer4\.0\.conv1\.weight is '):
        transfer_weights(model, path, rules)
    report = transfer_weights(model, path, rules, fresh=[r'^backbone\.layer4\.'])
    fresh = report['modules']['backbone']['fresh']
    assert fresh and all(k.startswith('backbone.layer4.') for k in fresh)
    assert any('backbone.layer4' in note for note in report['notes'])


def test_files_in_no_layout_or_in_two_never_load(tmp_path):
    net = resnet18(1)
    unknown = str(tmp_path / 'unknown.pth')
    torch.save({'meta': {}, 'state_dict': {'encoder.w': torch.zeros(3)}}, unknown)
    with pytest.raises(LayoutError) as info:
        load_pretrained(unknown)
    message = str(info.value)
    assert '\n' not in message
    for layout in LAYOUTS:
        assert layout.name in message
    assert 'its first keys: [meta, state_dict]; state_dict: [encoder.w]' in message
    both = str(tmp_path / 'both.pth')
    state = {}
    for prefix in ('backbone.', 'module.encoder_q.'):
        state.update({prefix + k: v for k, v in net.state_dict().items()})
    torch.save({'state_dict': state}, both)
    with pytest.raises(LayoutError, match='two checkpoint layouts at once') as info:
        load_pretrained(both)
    assert 'OpenMMLab' in str(info.value) and 'MoCo v1 / v2' in str(info.value)
    # a flat torchvision state dict beside a MoCo one
    mixed = str(tmp_path / 'mixed.pth')
    torch.save({**net.state_dict(), 'state_dict': state}, mixed)
    with pytest.raises(LayoutError, match='two checkpoint layouts at once'):
        load_pretrained(mixed)
    # a SoCo-like model that also has PixPro's instance branch: neither
    soco = torch.load(SOURCES['soco-c4'](str(tmp_path)).path, weights_only=False)
    soco['model']['module.projector_instance.w'] = torch.zeros(1)
    odd = str(tmp_path / 'odd.pth')
    torch.save(soco, odd)
    with pytest.raises(LayoutError, match='no checkpoint layout known'):
        load_pretrained(odd)


@pytest.mark.payload
def test_pkl_reader_admits_numpy_arrays_and_containers_only(tmp_path):
    marker = tmp_path / 'payload-ran'
    path = str(tmp_path / 'evil.pkl')
    content = pickle.loads(pickle.dumps({'model': {}, '__author__': 'x'}))
    content['model']['stem.conv1.weight'] = PayloadOnLoad(marker)
    for protocol in (2, pickle.DEFAULT_PROTOCOL):
        with open(path, 'wb') as f:
            pickle.dump(content, f, protocol=protocol)
        with pytest.raises(TransferError, match=r'holds (builtins|io)\.open, which'):
            load_pretrained(path)
        assert not marker.exists()
    # torch tensors pickled plainly are code to this reader too
    with open(path, 'wb') as f:
        pickle.dump({'model': {'stem.conv1.weight': torch.zeros(2)}}, f)
    with pytest.raises(TransferError, match=r'holds torch\._utils\.'):
        load_pretrained(path)
    with open(path, 'wb') as f:
        f.write(b'not a pickle at all')
    with pytest.raises(TransferError, match='cannot load'):
        load_pretrained(path)


def test_detectron2_names_round_trip():
    names = [k for k in resnet18(0).state_dict() if not k.startswith('fc.')]
    from mmpixpro.benchmarks.layouts.detectron2 import DETECTRON2

    for name in names:
        d2 = detectron2_name(name)
        assert 'layer' not in d2 and 'bn' not in d2 and 'downsample' not in d2
        assert DETECTRON2.backbone_name(d2) == name
    back = 'res5.1.conv2.norm.running_var'
    out = back
    for pattern, replacement in FROM_DETECTRON2:
        out = re.sub(pattern, replacement, out)
    assert out == 'layer4.1.bn2.running_var'


# -- the tables against the releases' code (when fetched) --------------------------

MIRROR = os.environ.get('MMPIXPRO_MIRROR', '/work/.mirror')


def release_file(repo: str, path: str) -> str:
    """The newest text of ``path`` in the fetched ``repo`` (a bare git dir
    under MIRROR; a file deleted at HEAD is read from before its deletion);
    skips when the repository has not been fetched."""
    git_dir = osp.join(MIRROR, repo.replace('/', '+'), 'repo')
    if osp.isdir(osp.join(git_dir, '.git')):  # a checkout, not a bare dir
        git_dir = osp.join(git_dir, '.git')
    if not osp.isdir(git_dir):
        pytest.skip(f'{repo} has not been fetched into {MIRROR}')
    commits = subprocess.run(
        ['git', '--git-dir', git_dir, 'rev-list', 'HEAD', '--', path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for commit in ['HEAD'] + [f'{c}^' for c in commits] + commits:
        shown = subprocess.run(
            ['git', '--git-dir', git_dir, 'show', f'{commit}:{path}'],
            capture_output=True,
            text=True,
        )
        if shown.returncode == 0:
            return shown.stdout
    raise AssertionError(f'{path} is in no commit of {repo}')


def plain(text: str) -> str:
    """Code without spaces, with one kind of quote: the fragments below
    match however it is formatted."""
    return re.sub(r'\s+', '', text).replace("'", '"')


# The facts each table rests on, in the releases' code.
D2_RENAMES = [
    '"stem."+k',
    '.replace("downsample.0","shortcut")',
    '.replace("downsample.1","shortcut.norm")',
]
RELEASE_FACTS = {
    'MoCo v1 / v2': [
        ('facebookresearch/moco', 'main_moco.py', ['"state_dict":model.state_dict()']),
        (
            'facebookresearch/moco',
            'moco/builder.py',
            [
                'self.encoder_q=base_encoder(',
                'self.encoder_k=base_encoder(',
                'register_buffer("queue"',
            ],
        ),
        (
            'facebookresearch/moco',
            'detection/convert-pretrain-to-detectron2.py',
            ['startswith("module.encoder_q.")', *D2_RENAMES],
        ),
    ],
    'MoCo v3': [
        (
            'facebookresearch/moco-v3',
            'main_moco.py',
            ['"state_dict":model.state_dict()', '"scaler":'],
        ),
        (
            'facebookresearch/moco-v3',
            'moco/builder.py',
            [
                'self.base_encoder=base_encoder(',
                'self.momentum_encoder=base_encoder(',
                'self.predictor=',
            ],
        ),
        ('facebookresearch/moco-v3', 'main_lincls.py', ['"module.base_encoder.']),
    ],
    'DenseCL': [
        (
            'WXinlong/DenseCL',
            'tools/extract_backbone_weights.py',
            [
                'dict(state_dict=dict(),author="DenseCL")',
                'key.startswith("backbone")',
                'key[9:]',
            ],
        ),
        (
            'WXinlong/DenseCL',
            'benchmarks/detection/convert-pretrain-to-detectron2.py',
            D2_RENAMES,
        ),  # fmt: skip
    ],
    'PixPro': [
        (
            'zdaxie/PixPro',
            'main_pretrain.py',
            ['"opt":args', '"model":model.state_dict()'],
        ),
        (
            'zdaxie/PixPro',
            'publish_model.py',
            ['"opt","optimizer","scheduler","epoch"'],
        ),
        (
            'zdaxie/PixPro',
            'contrast/models/PixPro.py',
            [
                'self.encoder=base_encoder(',
                'self.encoder_k=base_encoder(',
                'self.projector=',
                'self.value_transform=',
                'self.projector_instance=',
                'self.predictor=',
            ],
        ),
        (
            'zdaxie/PixPro',
            'transfer/detection/convert_pretrain_to_d2.py',
            ['startswith("module.encoder.")', *D2_RENAMES],
        ),
    ],
    'SoCo': [
        (
            'hologerry/SoCo',
            'main_pretrain.py',
            ['"opt":args', '"model":model.state_dict()'],
        ),
        (
            'hologerry/SoCo',
            'contrast/models/SoCo_C4.py',
            [
                'self.encoder=base_encoder(',
                'self.predictor=',
                'register_buffer("queue"',
            ],
        ),
        ('hologerry/SoCo', 'contrast/models/SoCo_FPN.py', ['self.neck=', 'self.head=']),
        (
            'hologerry/SoCo',
            'converter_mmdetection/convert_mmdetection_Backbone.py',
            ['backbone_prefix="module.encoder."'],
        ),
    ],
    'PyContrast': [
        (
            'HobbitLong/PyContrast',
            'pycontrast/learning/contrast_trainer.py',
            ['"model":model.state_dict()', 'state["model_ema"]'],
        ),
        (
            'HobbitLong/PyContrast',
            'pycontrast/networks/build_backbone.py',
            ['self.encoder=model_dict[name](', 'self.head=nn.Sequential('],
        ),
        (
            'HobbitLong/PyContrast',
            'pycontrast/detection/convert_pretrained.py',
            ['prefix="module.encoder."'],
        ),
    ],
    'SlotCon': [
        (
            'CVMI-Lab/SlotCon',
            'main_pretrain.py',
            ['"args":args', '"model":model.state_dict()'],
        ),
        (
            'CVMI-Lab/SlotCon',
            'models/slotcon.py',
            ['self.encoder_q=encoder(', 'self.encoder_k=encoder(', 'self.grouping_k='],
        ),
        (
            'CVMI-Lab/SlotCon',
            'transfer/detection/convert_pretrain_to_d2.py',
            ['startswith("module.encoder_k.")', *D2_RENAMES],
        ),
        (
            'CVMI-Lab/SlotCon',
            'transfer/segmentation/convert_pretrain_to_mm.py',
            ['res={"state_dict":new_model}', '"module.encoder_k."'],
        ),
    ],
    'MoBY': [
        (
            'SwinTransformer/Transformer-SSL',
            'utils.py',
            [
                'save_state={"model":model.state_dict()',
                '"lr_scheduler":lr_scheduler.state_dict()',
                '"config":config}',
            ],
        ),
        (
            'SwinTransformer/Transformer-SSL',
            'moby_main.py',
            ['save_checkpoint(config,epoch,model_without_ddp,'],
        ),
        (
            'SwinTransformer/Transformer-SSL',
            'models/moby.py',
            [
                'self.encoder=encoder',
                'self.encoder_k=encoder_k',
                'self.projector=MoBYMLP(',
                'self.projector_k=MoBYMLP(',
                'self.predictor=MoBYMLP(',
                'register_buffer("queue1"',
                'register_buffer("queue2"',
                'register_buffer("queue_ptr"',
            ],
        ),
        ('SwinTransformer/Transformer-SSL', 'models/build.py', ['num_classes=0,']),
        ('SwinTransformer/Transformer-SSL', 'config.py', ['import CfgNode as CN']),
        (
            'SwinTransformer/Transformer-SSL',
            'models/swin_transformer.py',
            [
                'self.patch_embed=PatchEmbed(',
                'self.proj=nn.Conv2d(',
                'self.layers=nn.ModuleList()',
                'self.qkv=nn.Linear(',
                'self.relative_position_bias_table=nn.Parameter(',
                'self.fc1=nn.Linear(',
                'register_buffer("attn_mask",attn_mask)',
                'x1=x[:,1::2,0::2,:]',
                'x=torch.cat([x0,x1,x2,x3],-1)',
                'self.norm=norm_layer(self.num_features)',
            ],
        ),
        (
            'SwinTransformer/Swin-Transformer-Object-Detection',
            'mmcv_custom/checkpoint.py',
            ['#forMoBY,loadmodelofonlinebranch', 'k.startswith("encoder.")'],
        ),
        # the CfgNode that the checkpoint pickles (read as a dict here)
        (
            'rbgirshick/yacs',
            'yacs/config.py',
            [
                'classCfgNode(dict):',
                'self.__dict__[CfgNode.IMMUTABLE]=False',
                'self.__dict__[CfgNode.DEPRECATED_KEYS]=set()',
                'self.__dict__[CfgNode.RENAMED_KEYS]={',
                'self.__dict__[CfgNode.NEW_ALLOWED]=new_allowed',
            ],
        ),
    ],
    'SimCLR converter': [
        (
            'tonylins/simclr-converter',
            'convert.py',
            ['torch.save({"state_dict":model.state_dict()}'],
        ),
    ],
    'detectron2': [
        (
            'facebookresearch/detectron2',
            'detectron2/checkpoint/detection_checkpoint.py',
            ['pickle.load(f,encoding="latin1")', '"matching_heuristics"'],
        ),
        (
            'facebookresearch/detectron2',
            'tools/convert-torchvision-to-d2.py',
            [*D2_RENAMES, '"res{}".format(t+1)', '"conv{}.norm".format(t)'],
        ),
    ],
}


@pytest.mark.parametrize('release', sorted(RELEASE_FACTS))
def test_layout_tables_follow_the_releases_code(release):
    for repo, path, fragments in RELEASE_FACTS[release]:
        code = plain(release_file(repo, path))
        for fragment in fragments:
            assert plain(fragment) in code, (repo, path, fragment)
    if release == 'PixPro':  # no queue: what tells it from SoCo's C4
        code = release_file('zdaxie/PixPro', 'contrast/models/PixPro.py')
        assert 'register_buffer("queue"' not in code


# -- through the tools ---------------------------------------------------------------


def test_tools_fine_tune_a_release_and_refuse_to_evaluate_one(tmp_path):
    """tools/benchmarks/train.py takes the MoCo release as it is published
    and names its layout in the log and the report; tools/benchmarks/test.py
    given it (not a fine-tuned model) stops naming the layout."""
    import json

    from mmpixpro.testing import small_benchmark_config, toy_data

    linear = osp.join(
        BENCH,
        'classification',
        'resnet50_linear-8xb32-steplr-100e_in1k_paper-protocol.py',
    )
    data = toy_data.make_imagenet(str(tmp_path / 'data'))
    cfg = small_benchmark_config(Config.fromfile(linear), data, 72)
    cfg.visualizer.name = f'visualizer_{tmp_path.name}'  # a fresh singleton
    config = str(tmp_path / 'linear.py')
    cfg.dump(config)
    source = SOURCES['moco'](str(tmp_path))
    work_dir = tmp_path / 'work'
    load_tool('tools/benchmarks/train.py').main(
        [config, source.path, '--work-dir', str(work_dir)]
    )
    with open(work_dir / 'transfer_report.json') as f:
        report = json.load(f)
    assert report['layout'] == 'MoCo v1 / v2 release'
    assert any(note.startswith('encoder_k.* (the momentum') for note in report['notes'])
    (log,) = work_dir.glob('*/*.log')
    assert 'layout: MoCo v1 / v2 release' in log.read_text()
    stem = dict(source.reference.named_parameters())['conv1.weight']
    own = torch.load(work_dir / 'iter_2.pth', weights_only=True)['state_dict']
    assert torch.equal(own['backbone.conv1.weight'], stem)  # frozen: as loaded

    test_tool = load_tool('tools/benchmarks/test.py')
    with pytest.raises(TransferError) as info:
        test_tool.main([config, source.path, '--work-dir', str(tmp_path / 'test')])
    message = str(info.value)
    assert 'is a pre-training checkpoint (MoCo v1 / v2 release)' in message
    assert 'head.fc.weight' in message and '\n' not in message


def test_timm_convnext_loads_into_mmpretrains_convnext(tmp_path):
    """timm's ConvNeXt into mmpretrain's (the backbone of mmdet's / mmseg's
    ConvNeXt configs), built directly: every stage as timm computes it, the
    outputs' norms fresh but the last, which is timm's final norm."""
    import torch.nn.functional as F
    from layout_sources import holder, randomise
    from mmpretrain.models import ConvNeXt

    timm = pytest.importorskip('timm')
    depths, dims = (1, 1, 2, 1), (16, 32, 64, 128)
    source = randomise(timm.create_model('convnext_tiny', depths=depths, dims=dims), 1)
    with torch.no_grad():  # norms and layer scales away from their init
        for name, param in source.named_parameters():
            if name.endswith('gamma') or ('norm' in name and param.dim() == 1):
                param.copy_(torch.rand_like(param) * 0.5 + 0.25)
    path = str(tmp_path / 'convnext_timm.pth')
    torch.save(source.state_dict(), path)
    model = holder(
        backbone=ConvNeXt(
            arch=dict(depths=list(depths), channels=list(dims)),
            out_indices=(0, 1, 2, 3),
            gap_before_final_norm=False,
        )
    ).eval()
    rules = [dict(model='backbone.', checkpoint='backbone.', required=True)]
    report = transfer_weights(model, path, rules)  # the layout's fresh: norm0-2
    assert report['layout'] == 'timm ConvNeXt state dict'
    fresh = report['modules']['backbone']['fresh']
    assert fresh == [
        f'backbone.norm{i}.{p}' for i in range(3) for p in ('weight', 'bias')
    ]
    assert report['notes'][0].startswith('head.fc.* (the classifier')
    torch.manual_seed(0)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        outs = model.backbone(x)
        y = source.stem(x)
        for i, stage in enumerate(source.stages):
            y = stage(y)
            norm = source.head.norm if i == 3 else None
            expected = F.layer_norm(
                y.permute(0, 2, 3, 1),
                (dims[i],),
                None if norm is None else norm.weight,
                None if norm is None else norm.bias,
                eps=1e-6,
            ).permute(0, 3, 1, 2)
            assert max_diff(outs[i], expected) <= TOLERANCE, i
