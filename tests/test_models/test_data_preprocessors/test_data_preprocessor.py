"""The data preprocessor is a registered class whose ``forward`` runs outside
``torch.compile`` by definition: no instance or class of mmpretrain is
patched."""

import torch
from helpers import DEMO_CONFIG_PATH
from mmengine.config import Config
from mmpretrain.models.utils import SelfSupDataPreprocessor
from torch._dynamo.testing import CompileCounter

from mmpixpro.models import PixProDataPreprocessor
from mmpixpro.registry import MODELS

NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)


def batch():
    gen = torch.Generator().manual_seed(0)
    views = [torch.randint(0, 256, (2, 3, 8, 8), generator=gen) for _ in range(2)]
    return dict(inputs=[v.to(torch.uint8) for v in views], data_samples=None)


def test_the_config_builds_our_preprocessor_and_patches_nothing():
    forward = SelfSupDataPreprocessor.forward
    cfg = Config.fromfile(DEMO_CONFIG_PATH)
    model = MODELS.build(cfg.model)
    pre = model.data_preprocessor
    assert type(pre) is PixProDataPreprocessor
    assert 'forward' not in vars(pre)  # no method replaced on the instance
    assert SelfSupDataPreprocessor.forward is forward
    # mmpretrain's numbers
    ours = pre(batch())['inputs']
    theirs = SelfSupDataPreprocessor(**NORM)(batch())['inputs']
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs))


def test_forward_is_never_traced():
    """A compiled function that calls the preprocessor compiles no graph of
    it (mmpretrain's own would be traced)."""
    ours, theirs = PixProDataPreprocessor(**NORM), SelfSupDataPreprocessor(**NORM)
    for pre, graphs in ((ours, 0), (theirs, 1)):
        torch._dynamo.reset()
        counter = CompileCounter()
        torch.compile(lambda data: pre(data)['inputs'][0], backend=counter)(batch())
        assert counter.frame_count == graphs, type(pre).__name__
    torch._dynamo.reset()


def test_a_config_names_the_preprocessor():
    """A dict without ``type`` gets ours; a config that names another gets
    the one it names."""
    cfg = Config.fromfile(DEMO_CONFIG_PATH).model
    cfg.data_preprocessor = dict(NORM)
    assert type(MODELS.build(cfg).data_preprocessor) is PixProDataPreprocessor
    cfg.data_preprocessor = dict(NORM, type='mmpretrain.SelfSupDataPreprocessor')
    assert type(MODELS.build(cfg).data_preprocessor) is SelfSupDataPreprocessor
