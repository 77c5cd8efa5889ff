""".dev_scripts/pixpro_speed/worker: a tree's step in a process of its own."""

import ast
import inspect

import torch
from pixpro_speed import worker


def test_worker_imports_nothing_an_older_tree_lacks():
    """It runs with an older revision's mmpixpro on sys.path: of mmpixpro it
    may use only what every revision has (registry, utils, __file__)."""
    tree = ast.parse(inspect.getsource(worker))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, 'no relative imports'
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    ours = {name for name in imported if name.split('.')[0] == 'mmpixpro'}
    assert ours == {'mmpixpro', 'mmpixpro.registry', 'mmpixpro.utils'}


def test_train_batch_is_the_loaders_and_repeatable():
    a, b = worker.train_batch(2, 16, 'cpu'), worker.train_batch(2, 16, 'cpu')
    assert [v.shape for v in a['inputs']] == [(2, 3, 16, 16)] * 2
    assert all(v.dtype == torch.uint8 for v in a['inputs'])
    for x, y in zip(a['inputs'], b['inputs']):
        assert torch.equal(x, y)
    for s, t in zip(a['data_samples'], b['data_samples']):
        assert torch.equal(s.coords, t.coords)
        # a box per view, half the image wide and high, inside it
        sides = s.coords[:, 2:] - s.coords[:, :2]
        assert torch.allclose(sides, torch.full((2, 2), 0.5))
        assert (s.coords >= 0).all() and (s.coords < 1).all()


def test_amp_wrapper_is_what_train_amp_makes():
    wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))
    gpu = worker.amp_wrapper(wrapper, 'cuda')
    assert gpu == dict(wrapper, type='AmpOptimWrapper', loss_scale='dynamic')
    cpu = worker.amp_wrapper(wrapper, 'cpu')
    assert cpu == dict(wrapper, type='CPUAutocastOptimWrapper', dtype='bfloat16')
    assert wrapper['type'] == 'OptimWrapper'  # the config's is left alone
