"""``compile`` in a config (mmengine's Runner key): the compiled training
step gives the eager losses and weights, and does not recompile per step."""

import os.path as osp

import pytest
import torch
from conftest import REPO
from helpers import DEMO_CONFIG_PATH, tiny_config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from torch._dynamo.utils import counters

ITERS = 3  # one epoch of the 12 photos, batch 4
FPN_HEAD = osp.join(REPO, 'configs', 'selfsup', 'pixpro_r50_fpn_head.py')


class Record(Hook):
    """Loss and tau of every iteration; graphs compiled so far."""

    def __init__(self):
        self.losses, self.taus, self.graphs = [], [], []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append(outputs['loss'].item())
        self.taus.append(outputs['momentum_tau'].item())
        self.graphs.append(counters['stats']['unique_graphs'])


def train(config, tmp_path, compile_cfg):
    cfg = tiny_config(config, tmp_path, batch_size=4)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    if compile_cfg is not None:
        cfg.compile = compile_cfg
    runner = Runner.from_cfg(cfg)
    record = Record()
    runner.register_hook(record)
    runner.train()
    return record, runner.model.state_dict()


@pytest.mark.parametrize(
    'config',
    [DEMO_CONFIG_PATH, pytest.param(FPN_HEAD, marks=pytest.mark.heavy)],
    ids=['C5', 'FPN'],
)
def test_compiled_step_equals_eager(tmp_path, config):
    """``compile=dict(backend='aot_eager')`` through a real Runner on the
    demo config (ResNet-18 C5) and the FPN + head config (shrunk to
    ResNet-18; P3-P6, FCOS towers), bundled photos, LARS, lr warm-up: the same
    losses (1e-5), tau (exact) and final weights and momentum target (1e-5)
    as the eager run; graphs are compiled in the first iteration and never
    again, although lr, tau and the images' metainfo change every iteration
    (optimizer step, momentum update and data preprocessor run eagerly).
    ``aot_eager`` traces and differentiates exactly what inductor would
    compile, without its C++ build (minutes on this CPU:
    ``tools/analysis/speed.py --baseline REF --compile``)."""
    torch._dynamo.reset()
    counters.clear()
    eager, eager_state = train(config, tmp_path / 'eager', None)
    assert counters['stats']['unique_graphs'] == 0
    compiled, compiled_state = train(
        config, tmp_path / 'compiled', dict(backend='aot_eager')
    )
    assert compiled.graphs[-1] > 0  # it did compile
    assert compiled.graphs[-1] == compiled.graphs[0]  # no recompiles
    assert compiled.taus == eager.taus
    assert len(eager.losses) == ITERS
    assert len(set(eager.taus)) == ITERS  # tau moves every iteration
    for a, b in zip(compiled.losses, eager.losses):
        assert abs(a - b) < 1e-5
    assert compiled_state.keys() == eager_state.keys()
    for key, value in eager_state.items():
        other = compiled_state[key]
        if value.dtype.is_floating_point:
            assert torch.allclose(other, value, atol=1e-5), key
        else:
            assert torch.equal(other, value), key
    torch._dynamo.reset()


@pytest.mark.parametrize('max_elements', [None, 256], ids=['dense', 'chunked'])
def test_pixel_head_is_one_graph(max_elements):
    """The pixel head (pair rule, PPM, loss, pair count), dense and in two
    checkpointed chunks (2 x 16 x 16 elements, bound 256), compiles into one
    graph without a break, and gives the eager loss and gradients."""
    from mmpixpro.models import PixelHead

    torch.manual_seed(0)
    feats = [(torch.randn(2, 16, 4, 4, requires_grad=True),) for _ in range(4)]
    c1 = torch.tensor([[0.0, 0, 0.8, 0.8], [0.1, 0.1, 0.9, 0.7]])
    c2 = torch.tensor([[0.2, 0.2, 1, 1], [0.9, 0, 0.1, 0.8]])  # one flipped
    ppm = dict(type='PixelPropagationModule', in_channels=16)
    head = PixelHead(ppm=ppm, max_elements=max_elements)

    def loss_and_grad(fn):
        loss = fn(*feats, c1, c2)['loss_pixel']
        (grad,) = torch.autograd.grad(loss, feats[0][0])
        return loss, grad

    torch._dynamo.reset()
    counters.clear()
    eager = loss_and_grad(head.loss)
    compiled = loss_and_grad(torch.compile(head.loss, backend='aot_eager'))
    assert counters['stats']['unique_graphs'] == 1
    assert not counters['graph_break'], dict(counters['graph_break'])
    assert torch.allclose(compiled[0], eager[0], atol=1e-6)
    assert torch.allclose(compiled[1], eager[1], atol=1e-6)
    torch._dynamo.reset()
