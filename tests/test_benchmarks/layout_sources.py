"""Checkpoints in each layout of mmpixpro.benchmarks.layouts, written the
way each project writes them, each with the network whose backbone it holds
(the reference the loaded backbone is compared with).

Where the project is installed (torchvision, timm, mmpretrain), its own
model is built (mmpretrain's algorithms from mmpretrain's own configs) and
saved as the project saves it. The releases of projects that are not
installed (MoCo, DenseCL, SoCo, SlotCon, PyContrast, PixPro) are built from
torchvision ResNet-18s as their model code describes (module names, heads,
buffers, the DDP wrapper's ``module.``) and saved with the entries of their
``save_checkpoint``; tests/test_benchmarks/test_layouts.py checks those
facts against the releases' code when it has been fetched.

Every BN layer of a reference gets random statistics and affine values, and
every momentum copy (or the student, for SlotCon) differs from the network
that should be loaded, so that loading the wrong tensors shows.
"""

import argparse
import copy
import os.path as osp
import pickle
from typing import Callable, Dict, List, NamedTuple

import pytest
import torch
import torchvision
from torch import nn

from mmpixpro.benchmarks.backbone_export import to_detectron2

HIDDEN = 32  # width of the heads around the encoders


class Source(NamedTuple):
    """A written checkpoint: its path, the network whose backbone it holds
    (torchvision-style attributes: conv1, bn1, relu / act1, maxpool,
    layer1-4), the layout name it must be recognised as (a substring), and
    substrings of the notes on what it holds besides the backbone."""

    path: str
    reference: nn.Module
    layout: str
    not_loaded: List[str]


def randomise(net: nn.Module, seed: int) -> nn.Module:
    """Random BN statistics and affine values, and convolutions drawn
    anew, from ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                n = module.num_features
                if module.affine:
                    module.weight.copy_(torch.rand(n, generator=gen) * 0.4 + 0.2)
                    module.bias.copy_(torch.randn(n, generator=gen) * 0.1)
                if module.track_running_stats:
                    module.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
                    module.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                    module.num_batches_tracked.fill_(int(seed) + 3)
            elif isinstance(module, (nn.Conv2d, nn.Linear)):
                w = module.weight
                w.copy_(torch.randn(w.shape, generator=gen) * (2 / w[0].numel()) ** 0.5)
    net.eval()  # mmpretrain's ResNet.train returns None
    return net


def resnet18(seed: int, head: bool = True) -> nn.Module:
    """torchvision's ResNet-18, randomised; ``head=False``: without ``fc``
    (the encoders of the PixPro, SoCo, SlotCon and PyContrast releases
    stop at C5)."""
    net = randomise(torchvision.models.resnet18(weights=None), seed)
    if not head:
        net.fc = nn.Identity()
    return net


def holder(**children) -> nn.Module:
    """A module with these children (tensors become buffers)."""
    module = nn.Module()
    for name, child in children.items():
        if isinstance(child, torch.Tensor):
            module.register_buffer(name, child)
        else:
            setattr(module, name, child)
    return module


def ddp(model: nn.Module) -> Dict[str, torch.Tensor]:
    """The state dict of ``model`` as DistributedDataParallel names it."""
    return holder(module=model).state_dict()


def mlp2d(cin: int, cout: int) -> nn.Module:
    """PixPro's and SoCo's dense head: linear1 (1x1 conv), bn1, linear2."""
    return holder(
        linear1=nn.Conv2d(cin, HIDDEN, 1),
        bn1=nn.BatchNorm2d(HIDDEN),
        linear2=nn.Conv2d(HIDDEN, cout, 1),
    )


def optimizer_state() -> dict:
    """An SGD state dict after one step (what the releases save)."""
    params = [torch.zeros(3, requires_grad=True)]
    optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    params[0].grad = torch.ones(3)
    optimizer.step()
    return optimizer.state_dict()


def save(obj, path: str, legacy: bool = False) -> str:
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    return path


# -- installed projects ---------------------------------------------------------


def torchvision_file(tmp: str) -> Source:
    net = resnet18(1)
    path = save(net.state_dict(), osp.join(tmp, 'resnet18-tv.pth'))
    return Source(path, net, 'torchvision / timm ResNet', ['fc.*'])


def torchvision_legacy_file(tmp: str) -> Source:
    """As torchvision's first ImageNet weights: torch's legacy format, no
    ``num_batches_tracked`` (saved before PyTorch 0.4.1)."""
    net = resnet18(2)
    state = {k: v for k, v in net.state_dict().items() if 'num_batches' not in k}
    path = save(state, osp.join(tmp, 'resnet18-legacy.pth'), legacy=True)
    return Source(path, net, 'torchvision / timm ResNet', ['num_batches_tracked'])


def timm_file(tmp: str) -> Source:
    timm = pytest.importorskip('timm')

    net = randomise(timm.create_model('resnet18', pretrained=False), 3)
    path = save(net.state_dict(), osp.join(tmp, 'resnet18-timm.pth'))
    return Source(path, net, 'torchvision / timm ResNet', ['fc.*'])


def timm_train_file(tmp: str) -> Source:
    """A checkpoint of timm's train.py (timm.utils.CheckpointSaver)."""
    timm = pytest.importorskip('timm')
    from timm.utils import CheckpointSaver

    net = randomise(timm.create_model('resnet18', pretrained=False), 4)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    args = argparse.Namespace(model='resnet18', lr=0.1, epochs=100)
    saver = CheckpointSaver(net, optimizer, args=args, checkpoint_dir=tmp)
    saver.save_checkpoint(epoch=1, metric=0.5)
    return Source(osp.join(tmp, 'last.pth.tar'), net, "under 'state_dict'", ['fc.*'])


MMPRETRAIN = {
    'mocov2': 'mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py',
    'mocov3': 'mocov3/mocov3_resnet50_8xb512-amp-coslr-100e_in1k.py',
    'byol': 'byol/byol_resnet50_16xb256-coslr-200e_in1k.py',
    'simclr': 'simclr/simclr_resnet50_16xb256-coslr-200e_in1k.py',
    'simsiam': 'simsiam/simsiam_resnet50_8xb32-coslr-100e_in1k.py',
    'densecl': 'densecl/densecl_resnet50_8xb32-coslr-200e_in1k.py',
    'barlowtwins': 'barlowtwins/barlowtwins_resnet50_8xb256-coslr-300e_in1k.py',
    'swav': 'swav/swav_resnet50_8xb32-mcrop-coslr-200e_in1k-224px-96px.py',
    'supervised': 'resnet/resnet50_8xb32_in1k.py',
}
# what each algorithm holds besides its backbone, as the notes name it
MMPRETRAIN_PARTS = {
    'mocov2': ['encoder_k.* (momentum copy', 'neck.*', 'queue'],
    'mocov3': ['momentum_encoder.* (momentum copy', 'neck.*', 'head.*'],
    'byol': ['target_net.* (momentum / target copy', 'neck.*', 'head.*'],
    'simclr': ['neck.*'],
    'simsiam': ['neck.*', 'head.*'],
    'densecl': ['encoder_k.* (momentum copy', 'neck.*', 'queue'],
    'barlowtwins': ['neck.*', 'head.*'],
    'swav': ['neck.*', 'head.*'],
    'supervised': ['head.* (', 'classifier'],
}


def mmpretrain_file(tmp: str, algorithm: str) -> Source:
    """The algorithm built from mmpretrain's own config (ResNet-18), saved
    as mmengine's Runner saves a checkpoint."""
    import mmpretrain
    from mmengine.config import Config
    from mmengine.logging import MessageHub
    from mmengine.registry import DefaultScope
    from mmengine.runner.checkpoint import save_checkpoint, weights_to_cpu
    from mmpretrain.registry import MODELS

    from mmpixpro.testing import shrink_config

    configs = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'configs')
    cfg = Config.fromfile(osp.join(configs, MMPRETRAIN[algorithm]))
    cfg = shrink_config(cfg, 18, sync_bn=False)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    randomise(model, 5)
    with torch.no_grad():  # the momentum copies differ from the online net
        for name, param in model.named_parameters():
            if name.startswith(('encoder_k.', 'momentum_encoder.', 'target_net.')):
                param.add_(1.0)
    hub = MessageHub.get_instance(f'layouts_{algorithm}')
    hub.update_scalar('train/loss', 1.5)
    checkpoint = {
        'meta': dict(epoch=200, iter=1000, cfg=cfg.pretty_text, seed=0),
        'state_dict': weights_to_cpu(model.state_dict()),
        'message_hub': hub.state_dict(),
        'optimizer': torch.optim.SGD(model.parameters(), lr=0.1).state_dict(),
    }
    path = osp.join(tmp, f'{algorithm}_mmpretrain.pth')
    save_checkpoint(checkpoint, path)
    return Source(path, model.backbone, 'OpenMMLab', MMPRETRAIN_PARTS[algorithm])


def mmpixpro_file(tmp: str) -> Source:
    """Our own pre-training checkpoint (the tiny C5 config)."""
    from mmengine.registry import DefaultScope

    from mmpixpro.registry import MODELS
    from mmpixpro.testing import tiny_config

    config = osp.join(
        osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
        'configs',
        'selfsup',
        'pixpro_r50_c5_8xb128-coslr-100e_in1k.py',
    )
    cfg = tiny_config(config, tmp)
    with DefaultScope.overwrite_default_scope('mmpixpro'):
        model = MODELS.build(cfg.model)
    randomise(model, 6)
    path = save({'meta': {}, 'state_dict': model.state_dict()}, osp.join(tmp, 'p.pth'))
    return Source(path, model.backbone, 'mmpixpro pre-training', [])


# -- releases of projects not installed here -------------------------------------


def moco_file(tmp: str) -> Source:
    """facebookresearch/moco: MoCo v2 (mlp head) as main_moco.py saves it."""
    encoder_q = resnet18(7)
    dim = encoder_q.fc.weight.shape[1]
    encoder_q.fc = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, 128))
    encoder_k = randomise(copy.deepcopy(encoder_q), 8)
    model = holder(
        encoder_q=encoder_q,
        encoder_k=encoder_k,
        queue=torch.randn(128, 64),
        queue_ptr=torch.zeros(1, dtype=torch.long),
    )
    ckpt = dict(
        epoch=200, arch='resnet18', state_dict=ddp(model), optimizer=optimizer_state()
    )
    path = save(ckpt, osp.join(tmp, 'moco_v2_200ep_pretrain.pth.tar'))
    return Source(
        path, encoder_q, 'MoCo v1 / v2', ['encoder_q.fc', 'encoder_k.*', 'queue']
    )


def moco_v3_file(tmp: str) -> Source:
    """facebookresearch/moco-v3: MoCo_ResNet as main_moco.py saves it."""

    def mlp(cin):
        return nn.Sequential(
            nn.Linear(cin, HIDDEN), nn.BatchNorm1d(HIDDEN), nn.ReLU(),
            nn.Linear(HIDDEN, 16), nn.BatchNorm1d(16, affine=False),
        )  # fmt: skip

    base = resnet18(9)
    base.fc = mlp(base.fc.weight.shape[1])
    momentum = randomise(copy.deepcopy(base), 10)
    model = holder(base_encoder=base, momentum_encoder=momentum, predictor=mlp(16))
    ckpt = dict(
        epoch=100,
        arch='resnet18',
        state_dict=ddp(model),
        optimizer=optimizer_state(),
        scaler={'scale': 65536.0, 'growth_factor': 2.0},
    )
    path = save(ckpt, osp.join(tmp, 'r-50-100ep.pth.tar'))
    return Source(
        path, base, 'MoCo v3', ['base_encoder.fc', 'momentum_encoder.*', 'predictor.*']
    )


def densecl_file(tmp: str) -> Source:
    """WXinlong/DenseCL: a published model, as extract_backbone_weights.py
    writes it (the backbone of the OpenSelfSup checkpoint, no fc)."""
    net = resnet18(11, head=False)
    ckpt = dict(state_dict=dict(net.state_dict()), author='DenseCL')
    path = save(ckpt, osp.join(tmp, 'densecl_r18_imagenet_200ep.pth'))
    return Source(path, net, "written by 'DenseCL'", [])


def pixpro_release_file(tmp: str, instance: bool = False) -> Source:
    """zdaxie/PixPro: a training checkpoint (save_checkpoint, torch 1.4's
    legacy format), l = 1, with or without the instance branch."""
    encoder = resnet18(12, head=False)
    modules = dict(
        encoder=encoder,
        encoder_k=randomise(copy.deepcopy(encoder), 13),
        projector=mlp2d(512, 256),
        projector_k=mlp2d(512, 256),
        value_transform=nn.Conv2d(256, 256, 1),
    )
    if instance:
        modules.update(
            projector_instance=mlp2d(512, 256),
            projector_instance_k=mlp2d(512, 256),
            predictor=mlp2d(256, 256),
        )
    opt = argparse.Namespace(arch='resnet18', epochs=100, pixpro_transform_layer=1)
    ckpt = dict(
        opt=opt,
        model=ddp(holder(**modules)),
        optimizer=optimizer_state(),
        scheduler={'last_epoch': 500},
        epoch=100,
    )
    path = save(ckpt, osp.join(tmp, 'pixpro_release.pth'), legacy=True)
    parts = ['encoder_k.*', 'projector*', 'value_transform.*']
    return Source(path, encoder, "authors' PixPro release", parts)


def soco_file(tmp: str, fpn: bool = False) -> Source:
    """hologerry/SoCo: SoCo_C4 (queue) or SoCo_FPN (neck, head) as
    main_pretrain.py saves it."""
    encoder = resnet18(14, head=False)
    modules = dict(
        encoder=encoder,
        encoder_k=randomise(copy.deepcopy(encoder), 15),
        projector=mlp2d(512, 256),
        projector_k=mlp2d(512, 256),
        predictor=mlp2d(256, 256),
    )
    if fpn:
        for suffix in ('', '_k'):
            modules['neck' + suffix] = holder(lateral_convs=nn.Conv2d(512, 64, 1))
            modules['head' + suffix] = holder(fc6=nn.Linear(64, 32))
    else:
        modules.update(queue=torch.randn(256, 64), queue_ptr=torch.zeros(1).long())
    opt = argparse.Namespace(arch='resnet18', epochs=100, head_type='early_return')
    ckpt = dict(
        opt=opt,
        model=ddp(holder(**modules)),
        optimizer=optimizer_state(),
        scheduler={},
        epoch=100,
    )
    path = save(ckpt, osp.join(tmp, 'soco_ckpt_epoch_100.pth'))
    parts = ['encoder_k.*', 'predictor.*'] + (['neck*', 'head*'] if fpn else ['queue*'])
    return Source(path, encoder, 'SoCo release', parts)


def pycontrast_file(tmp: str) -> Source:
    """HobbitLong/PyContrast: InfoMin as contrast_trainer.py saves it."""
    encoder = resnet18(16, head=False)
    model = holder(
        encoder=encoder,
        head=nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 128)),
    )
    ema = randomise(copy.deepcopy(model), 17)
    ckpt = dict(
        model=ddp(model),
        contrast={'memory': torch.randn(64, 128)},
        optimizer=optimizer_state(),
        epoch=800,
        model_ema=ema.state_dict(),
    )
    path = save(ckpt, osp.join(tmp, 'InfoMin_800.pth'))
    return Source(path, encoder, 'PyContrast release', ['head*'])


def slotcon_file(tmp: str) -> Source:
    """CVMI-Lab/SlotCon: SlotCon as main_pretrain.py saves it; its teacher
    (encoder_k) is the backbone it transfers."""
    teacher = resnet18(18, head=False)
    student = resnet18(19, head=False)

    def dino_head():
        return holder(mlp=nn.Sequential(nn.Conv2d(512, HIDDEN, 1), nn.GELU()))

    model = holder(
        encoder_q=student,
        encoder_k=teacher,
        projector_q=dino_head(),
        projector_k=dino_head(),
        grouping_q=holder(slot_embed=nn.Embedding(16, HIDDEN)),
        grouping_k=holder(slot_embed=nn.Embedding(16, HIDDEN)),
        predictor_slot=holder(mlp=nn.Linear(HIDDEN, HIDDEN)),
        center=torch.zeros(1, 16),
    )
    args = argparse.Namespace(arch='resnet18', dim_out=HIDDEN, num_prototypes=16)
    ckpt = dict(
        args=args,
        model=ddp(model),
        optimizer=optimizer_state(),
        scheduler={},
        epoch=800,
    )
    path = save(ckpt, osp.join(tmp, 'slotcon_ckpt_epoch_800.pth'))
    return Source(path, teacher, 'SlotCon release', ['encoder_q.*', 'grouping_*'])


def detectron2_file(tmp: str, protocol: int = pickle.DEFAULT_PROTOCOL) -> Source:
    """A detectron2 ``.pkl`` as MoCo's convert-pretrain-to-detectron2.py
    writes it from a MoCo checkpoint (the encoder's fc included: it becomes
    ``stem.fc.*``); ``protocol`` 2: as a Python 2 era pickle."""
    encoder = resnet18(20)
    content = to_detectron2(encoder.state_dict(), author='MOCO')
    path = osp.join(tmp, f'moco_r18_p{protocol}.pkl')
    with open(path, 'wb') as f:
        pickle.dump(content, f, protocol=protocol)
    return Source(path, encoder, "detectron2 .pkl, written by 'MOCO'", ['stem.fc*'])


SOURCES: Dict[str, Callable[[str], Source]] = {
    'torchvision': torchvision_file,
    'torchvision-legacy': torchvision_legacy_file,
    'timm': timm_file,
    'timm-train': timm_train_file,
    **{
        f'mmpretrain-{a}': (lambda tmp, a=a: mmpretrain_file(tmp, a))
        for a in MMPRETRAIN
    },
    'mmpixpro': mmpixpro_file,
    'moco': moco_file,
    'moco-v3': moco_v3_file,
    'densecl': densecl_file,
    'pixpro-release': pixpro_release_file,
    'pixpro-release-instance': lambda tmp: pixpro_release_file(tmp, instance=True),
    'soco-c4': soco_file,
    'soco-fpn': lambda tmp: soco_file(tmp, fpn=True),
    'pycontrast': pycontrast_file,
    'slotcon': slotcon_file,
    'detectron2': detectron2_file,
    'detectron2-protocol2': lambda tmp: detectron2_file(tmp, protocol=2),
}
