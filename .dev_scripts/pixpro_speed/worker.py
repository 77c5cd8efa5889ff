"""The training step of one source tree, in a process of its own.

Run as a script by :class:`~.revisions.StepWorker` (``python worker.py
SPEC``) with the measured tree first on ``sys.path``: the ``mmpixpro`` it
imports is that tree's, which may be an older revision without this module's
package. So this file imports nothing of its own package; the parent
gives it the model and optimizer settings, already shrunk (:mod:`.models`).
"""

import json
import os.path as osp
import pickle
import sys
import time

import torch

#: Prefix of the worker's protocol lines on stdout (logs may share it).
PROTOCOL = '@@step-worker '


def build_model(model_cfg):
    """``MODELS.build(model_cfg)`` with its weights initialised (quietly)."""
    from mmengine.logging import MMLogger

    from mmpixpro.registry import MODELS

    model = MODELS.build(model_cfg)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')  # init_weights logs every parameter at INFO
    model.init_weights()
    logger.setLevel(level)
    return model


def box_samples(batch, generator=None):
    """``batch`` data samples whose two views' boxes overlap (``coords``)."""
    from mmpretrain.structures import DataSample

    samples = []
    for _ in range(batch):
        xy = torch.rand(2, 2, generator=generator) * 0.4
        ds = DataSample()
        ds.set_field(torch.cat([xy, xy + 0.5], dim=1), 'coords')
        samples.append(ds)
    return samples


def train_batch(batch, size, device):
    """A batch as the data loader gives it: two uint8 views, boxes."""
    gen = torch.Generator().manual_seed(0)
    views = [
        torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8, generator=gen)
        for _ in range(2)
    ]
    samples = box_samples(batch, gen)
    return dict(inputs=[v.to(device) for v in views], data_samples=samples)


def resident(field='VmRSS'):
    """This process's resident memory (``VmHWM``: its high-water mark) in
    bytes, from ``/proc`` (Linux); None elsewhere."""
    try:
        with open('/proc/self/status') as f:
            line = next(x for x in f if x.startswith(field))
    except (OSError, StopIteration):
        return None
    return int(line.split()[1]) * 1024


def reset_high_water_mark():
    """Set ``VmHWM`` to the current ``VmRSS`` (Linux ``clear_refs``)."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        pass


def amp_wrapper(optim_wrapper, device):
    """What ``tools/train.py --amp`` makes of the config's optim_wrapper."""
    if device == 'cuda':
        return dict(optim_wrapper, type='AmpOptimWrapper', loss_scale='dynamic')
    return dict(optim_wrapper, type='CPUAutocastOptimWrapper', dtype='bfloat16')


def step_worker(spec):
    """One tree's training step, run when the parent asks (stdin lines).

    ``model.train_step(batch, optim_wrapper)`` as mmengine's loop calls it:
    data preprocessor, both views online and target, momentum update, pixel
    head, backward, the config's optimizer (PixProLARS). ``spec['config']``:
    a pickle of the ``model`` and ``optim_wrapper`` configs. ``compile``:
    ``torch.compile(model.train_step)``, what the Runner's ``compile`` key
    does.
    """
    if sys.platform.startswith('linux'):  # end with the parent, whatever kills it
        import ctypes
        import signal

        ctypes.CDLL('libc.so.6').prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    torch.set_num_threads(spec['threads'])
    from mmengine.logging import MessageHub
    from mmengine.optim import build_optim_wrapper

    import mmpixpro
    from mmpixpro.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    device = spec['device']
    with open(spec['config'], 'rb') as f:
        cfg = pickle.load(f)
    cuda = device == 'cuda'
    before_model = None if cuda else resident()
    model = build_model(cfg['model']).to(device)
    if spec.get('load'):
        model.load_state_dict(torch.load(spec['load'], weights_only=True))
    if spec.get('save'):
        torch.save(model.state_dict(), spec['save'])
    model.train()
    wrapper = cfg['optim_wrapper']
    if spec['amp']:
        wrapper = amp_wrapper(wrapper, device)
    optim_wrapper = build_optim_wrapper(model, wrapper)
    MessageHub.get_current_instance().update_info('max_iters', 1000)
    batch = train_batch(spec['batch'], spec['size'], device)
    step = model.train_step
    if spec['compile'] is not None:
        step = torch.compile(step, **spec['compile'])

    def say(**fields):
        sys.stdout.write(PROTOCOL + json.dumps(fields) + '\n')
        sys.stdout.flush()

    say(ready=True, package=osp.dirname(mmpixpro.__file__))
    for line in sys.stdin:
        if line.strip() != 'step':
            break
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        else:
            reset_high_water_mark()
        start = time.perf_counter()
        log_vars = step(batch, optim_wrapper)
        if cuda:
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        if cuda:
            peak = torch.cuda.max_memory_allocated()
        else:  # what the model, its optimiser and the step hold at most
            high = resident('VmHWM')
            peak = None if None in (high, before_model) else high - before_model
        say(time=elapsed, loss=float(log_vars['loss']), peak=peak)


if __name__ == '__main__':
    spec = json.loads(sys.argv[1])
    sys.path[0] = spec['repo']  # the measured tree, not this file's folder
    step_worker(spec)
