"""Swin Transformer checkpoints of other projects through the transfer hook
into the Swin-T Mask R-CNN benchmark config's backbone (small, as
test_swin_convnext_transfer.py makes it): timm's state dict (also as
``features_only`` saves it, and as a safetensors file), the release's names
without ``'model'`` (timm < 0.9), and MoBY's release with its yacs config,
whose pickle is read as data. The backbone then computes what the source
network computes (max |d| <= 1e-5, float32, one batch)."""

import sys
import types
from collections import OrderedDict
from contextlib import contextmanager

import pytest
import torch
import torch.nn.functional as F
from helpers import PayloadOnLoad, build_downstream
from test_swin_convnext_transfer import SWIN_T_1X, small

from mmpixpro.benchmarks import TransferError, transfer_weights
from mmpixpro.benchmarks.transfer import find_hook_cfg, load_pretrained, read_checkpoint
from mmpixpro.testing import releases

TOLERANCE = 1e-5
SIZE = 224  # every stage at least one 7 x 7 window, as timm's model is built


@pytest.fixture(scope='module')
def target():
    """The benchmark config (small) and its model, eval mode. Each test
    loads every backbone tensor but the four output norms, which no Swin
    layout holds and which stay as built (weight 1, bias 0)."""
    cfg = small(SWIN_T_1X)
    model = build_downstream(cfg).eval()
    return cfg, model


def load(target, path):
    cfg, model = target
    hook = find_hook_cfg(cfg)
    return transfer_weights(model, path, hook.rules, hook.get('fresh', ()))


def stage_outputs(backbone, x):
    """mmdet's four stage outputs before their output norms (NCHW), and
    after them (the backbone's outputs)."""
    before = []

    def keep(module, args, output):  # (x_down, down_hw, out, out_hw)
        out, (h, w) = output[2], output[3]
        before.append(out.view(out.shape[0], h, w, -1).permute(0, 3, 1, 2))

    handles = [stage.register_forward_hook(keep) for stage in backbone.stages]
    try:
        with torch.no_grad():
            after = backbone(x)
    finally:
        for handle in handles:
            handle.remove()
    return before, list(after)


def max_diff(a, b):
    assert a.shape == b.shape, (a.shape, b.shape)
    return (a - b).abs().max().item()


def batch():
    torch.manual_seed(0)
    return torch.randn(2, 3, SIZE, SIZE)


def randomised(net, seed):
    """Every parameter of ``net`` drawn anew (norms around 1, position
    biases as large as the attention logits), so that any misplaced or
    misordered tensor shows."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in net.named_parameters():
            noise = torch.randn(param.shape, generator=gen)
            if param.dim() == 1 and 'norm' in name:
                param.copy_(1 + 0.3 * noise if name.endswith('weight') else 0.1 * noise)
            elif 'relative_position_bias_table' in name:
                param.copy_(noise)
            elif param.dim() == 1:
                param.copy_(0.1 * noise)
            else:
                param.copy_(noise * param[0].numel() ** -0.5)
    net.eval()  # mmdet's SwinTransformer.train returns None
    return net


def timm_swin(cfg, seed, **kwargs):
    """timm's Swin-T with the benchmark backbone's sizes, randomised."""
    timm = pytest.importorskip('timm')
    arch = cfg.model.backbone
    net = timm.create_model(
        'swin_tiny_patch4_window7_224',
        pretrained=False,
        embed_dim=arch.embed_dims,
        depths=tuple(arch.depths),
        num_heads=tuple(arch.num_heads),
        window_size=arch.window_size,
        mlp_ratio=arch.mlp_ratio,
        **kwargs,
    )
    return randomised(net, seed)


def test_timm_swin_state_dict(target, tmp_path):
    """Each stage as timm computes it (``forward_intermediates``, NCHW),
    before the output norms; those start fresh, and timm's final norm (not
    loaded) is the norm of the last stage's output in timm's
    ``forward_features``."""
    cfg, model = target
    net = timm_swin(cfg, 1, num_classes=10)
    path = str(tmp_path / 'swin_timm.pth')
    torch.save(net.state_dict(), path)
    report = load(target, path)
    assert report['layout'] == 'timm Swin Transformer state dict'
    notes = ' | '.join(report['notes'])
    assert 'head.* (the classifier, 2 tensors) not loaded' in notes
    assert "norm.* (the classifier's final norm, 2 tensors) not loaded" in notes
    fresh = report['modules']['backbone']['fresh']
    norms = {f'backbone.norm{i}.{p}' for i in range(4) for p in ('weight', 'bias')}
    assert norms <= set(fresh)
    assert all(k in norms or k.endswith('relative_position_index') for k in fresh)
    x = batch()
    before, after = stage_outputs(model.backbone, x)
    with torch.no_grad():
        reference = net.forward_intermediates(x, intermediates_only=True)
        features = net.forward_features(x)  # NHWC, timm's final norm applied
    diffs = [max_diff(a, b) for a, b in zip(before, reference)]
    assert max(diffs) <= TOLERANCE, diffs
    for i, (out, ref) in enumerate(zip(after, reference)):  # fresh LN: no affine
        expected = F.layer_norm(ref.permute(0, 2, 3, 1), ref.shape[1:2])
        assert max_diff(out, expected.permute(0, 3, 1, 2)) <= TOLERANCE, i
    with torch.no_grad():
        last = net.norm(before[3].permute(0, 2, 3, 1))
    assert max_diff(last, features) <= TOLERANCE


def test_timm_swin_features_only_and_safetensors(target, tmp_path):
    """A ``features_only`` model's state dict (stages named ``layers_N``),
    saved as a safetensors file: the same layout, each stage as timm's
    feature extractor computes it (NHWC there)."""
    safetensors_torch = pytest.importorskip('safetensors.torch')
    cfg, model = target
    net = timm_swin(cfg, 2, features_only=True)
    assert any(k.startswith('layers_1.downsample.') for k in net.state_dict())
    path = str(tmp_path / 'model.safetensors')
    safetensors_torch.save_file(net.state_dict(), path)
    report = load(target, path)
    assert report['layout'] == 'timm Swin Transformer state dict'
    x = batch()
    before, _ = stage_outputs(model.backbone, x)
    with torch.no_grad():  # NHWC, as the stages compute them
        reference = [out.permute(0, 3, 1, 2) for out in net(x)]
    diffs = [max_diff(a, b) for a, b in zip(before, reference)]
    assert max(diffs) <= TOLERANCE, diffs


def test_release_names_without_model_entry(target, tmp_path):
    """The release's tensors as a flat state dict (timm < 0.9): loaded as
    the release itself is."""
    cfg, model = target
    source = randomised(build_downstream(cfg).backbone, 3)
    release = releases.swin_release(source)
    flat, wrapped = str(tmp_path / 'flat.pth'), str(tmp_path / 'release.pth')
    torch.save(release, flat)
    torch.save(dict(model=release), wrapped)
    ours, theirs = load_pretrained(flat), load_pretrained(wrapped)
    assert ours.name.startswith('Swin Transformer state dict in the release names')
    assert theirs.name.startswith('Swin Transformer release')
    assert list(ours.state) == list(theirs.state)
    assert all(torch.equal(ours.state[k], theirs.state[k]) for k in ours.state)
    load(target, flat)
    x = batch()
    before, _ = stage_outputs(model.backbone, x)
    reference, _ = stage_outputs(source, x)
    assert max(max_diff(a, b) for a, b in zip(before, reference)) <= TOLERANCE


# -- MoBY -----------------------------------------------------------------------


class CfgNode(dict):
    """What yacs's ``CfgNode`` pickles as (rbgirshick/yacs
    ``yacs/config.py``: a dict subclass with four flags in its
    ``__dict__``); pickled under yacs's name by :func:`as_yacs`."""

    def __init__(self, entries=()):
        super().__init__(entries)
        self.__dict__.update(
            {
                '__immutable__': True,
                '__deprecated_keys__': set(),
                '__renamed_keys__': {},
                '__new_allowed__': False,
            }
        )


class CalledCfgNode:
    """Unpickles as ``yacs.config.CfgNode('...')``: a call, not a node."""

    def __reduce__(self):
        return (CfgNode, ('import os',))


@contextmanager
def as_yacs():
    """Make :class:`CfgNode` picklable as ``yacs.config.CfgNode`` (yacs
    itself is not installed), in the ``with`` block only."""
    module = types.ModuleType('yacs.config')
    module.CfgNode = CfgNode
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, 'yacs', types.ModuleType('yacs'))
        patch.setitem(sys.modules, 'yacs.config', module)
        patch.setattr(CfgNode, '__module__', 'yacs.config')
        yield


def moby_config():
    """A MoBY run's config, as Transformer-SSL's ``config.py`` nests it."""
    swin = CfgNode(dict(EMBED_DIM=96, DEPTHS=[2, 2, 6, 2], NORM_BEFORE_MLP='ln'))
    moby = CfgNode(dict(ENCODER='swin', CONTRAST_MOMENTUM=0.99))
    model = CfgNode(dict(TYPE='moby', SWIN=swin, MOBY=moby, RESUME=''))
    return CfgNode(dict(MODEL=model, AMP_OPT_LEVEL='O1', OUTPUT='output'))


def mlp(width, seed):
    """``MoBYMLP``'s tensors: linear_hidden (Identity, Linear, BN, ReLU),
    linear_out."""
    gen = torch.Generator().manual_seed(seed)
    return {
        'linear_hidden.1.weight': torch.randn(32, width, generator=gen),
        'linear_hidden.1.bias': torch.zeros(32),
        'linear_hidden.2.weight': torch.ones(32),
        'linear_hidden.2.bias': torch.zeros(32),
        'linear_hidden.2.running_mean': torch.zeros(32),
        'linear_hidden.2.running_var': torch.ones(32),
        'linear_hidden.2.num_batches_tracked': torch.tensor(5),
        'linear_out.weight': torch.randn(16, 32, generator=gen),
        'linear_out.bias': torch.zeros(16),
    }


def encoder(backbone):
    """A Transformer-SSL ``SwinTransformer(num_classes=0)``'s tensors: the
    release's names without a head, with the shifted blocks' masks."""
    state = releases.swin_release(backbone)
    del state['head.weight'], state['head.bias']
    for key in [k for k in state if k.endswith('blocks.1.norm1.weight')]:
        state[key.replace('norm1.weight', 'attn_mask')] = torch.zeros(4, 49, 49)
    return state


def moby_release(cfg, path, config):
    """A MoBY checkpoint as Transformer-SSL's ``save_checkpoint`` writes it
    (the model without its DDP wrapper), with ``config`` in its slot; and
    the online encoder it holds (an mmdet backbone)."""
    online = randomised(build_downstream(cfg).backbone, 4)
    momentum = randomised(build_downstream(cfg).backbone, 5)
    width = cfg.model.backbone.embed_dims * 8
    model = {}
    for prefix, part in (
        ('encoder.', encoder(online)),
        ('encoder_k.', encoder(momentum)),
        ('projector.', mlp(width, 6)),
        ('projector_k.', mlp(width, 7)),
        ('predictor.', mlp(16, 8)),
    ):
        model.update({prefix + k: v for k, v in part.items()})
    model.update(queue1=torch.randn(16, 64), queue2=torch.randn(16, 64))
    model['queue_ptr'] = torch.zeros(1, dtype=torch.long)
    params = [torch.zeros(3, requires_grad=True)]
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    params[0].grad = torch.ones(3)
    optimizer.step()
    scheduler = dict(t_initial=300, warmup_t=5, base_values=[1e-3], noise_range_t=None)
    torch.save(
        dict(
            model=model,
            optimizer=optimizer.state_dict(),
            lr_scheduler=scheduler,
            max_accuracy=0.0,
            epoch=299,
            config=config,
            amp=dict(loss_scaler0=dict(loss_scale=65536.0, unskipped=10)),
        ),
        path,
    )
    return online, momentum


def test_moby_release_loads_its_online_encoder(target, tmp_path):
    """The online encoder is loaded (its stages compute what it computes),
    the momentum encoder, heads and queues are named and left out; the yacs
    config is read as a dict, without yacs and with nothing left allowed
    after the read."""
    cfg, model = target
    path = str(tmp_path / 'moby_swin_t_300ep_pretrained.pth')
    with as_yacs():
        online, momentum = moby_release(cfg, path, moby_config())
    assert 'yacs.config' not in sys.modules
    allowed = set(map(repr, torch.serialization.get_safe_globals()))
    report = load(target, path)
    assert set(map(repr, torch.serialization.get_safe_globals())) == allowed
    assert report['layout'] == 'MoBY release (Swin Transformer encoder)'
    notes = ' | '.join(report['notes'])
    for part in (
        "encoder.norm.* (the encoder's final norm, 2 tensors)",
        'encoder.layers.* (attention masks of shifted windows (computed), 1 ',
        'encoder_k.* (the momentum encoder,',
        'projector* (the projector and its momentum copy, 18 tensors)',
        'predictor.* (the predictor, 9 tensors)',
        'queue* (the queues of negatives, 3 tensors)',
    ):
        assert part in notes, (part, notes)
    assert 'other tensors' not in notes
    fresh = report['modules']['backbone']['fresh']
    assert sorted(fresh) == sorted(
        f'backbone.norm{i}.{p}' for i in range(4) for p in ('weight', 'bias')
    )
    x = batch()
    before, _ = stage_outputs(model.backbone, x)
    reference, _ = stage_outputs(online, x)
    assert max(max_diff(a, b) for a, b in zip(before, reference)) <= TOLERANCE
    wrong, _ = stage_outputs(momentum, x)
    assert max_diff(before[0], wrong[0]) > 1e-2
    config = read_checkpoint(path)['config']  # nested CfgNodes: OrderedDicts
    assert config['MODEL']['SWIN']['DEPTHS'] == [2, 2, 6, 2]
    assert type(config['MODEL']) is OrderedDict and config.__immutable__


@pytest.mark.payload  # integ's marker: TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1
@pytest.mark.parametrize(
    'payload, named',
    [
        (lambda marker: PayloadOnLoad(marker), r'(builtins|io)\.open'),
        (lambda marker: CalledCfgNode(), r'holds yacs\.config\.CfgNode, which is code'),
    ],
    ids=['code', 'CfgNode called'],
)
def test_moby_config_slot_never_runs_code(payload, named, target, tmp_path):
    """Anything in the config's slot but a pickled CfgNode is refused, named,
    and not run."""
    cfg, _ = target
    marker = tmp_path / 'payload-ran'
    path = str(tmp_path / 'moby.pth')
    with as_yacs():
        moby_release(cfg, path, payload(marker))
    with pytest.raises(TransferError, match=named) as info:
        load_pretrained(path)
    assert '\n' not in str(info.value)
    assert not marker.exists()


def test_moby_encoder_without_norm2_stops_naming_it(target, tmp_path):
    """An encoder pre-trained with ``NORM_BEFORE_MLP: bn`` saves no
    ``norm2`` (its batch norm is built at each call): the load stops naming
    the missing tensors, before anything is copied."""
    cfg, model = target
    with as_yacs():
        moby_release(cfg, str(tmp_path / 'moby.pth'), moby_config())
    ckpt = read_checkpoint(str(tmp_path / 'moby.pth'))  # memory-mapped
    for key in [k for k in ckpt['model'] if '.norm2.' in k]:
        del ckpt['model'][key]
    path = str(tmp_path / 'moby_bn.pth')
    torch.save(ckpt, path)  # the config now an OrderedDict: plain data
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    with pytest.raises(TransferError, match=r'blocks\.0\.norm2\.weight is missing'):
        load(target, path)
    after = model.backbone.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before.items())
