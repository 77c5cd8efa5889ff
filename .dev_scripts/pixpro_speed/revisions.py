"""This tree's whole training step against a git revision's, interleaved.

Each side runs :mod:`.worker` in a process of its own with its tree first on
``sys.path``: the same shrunk config of its own tree (shrunk here, as older
revisions have no ``mmpixpro.testing``), the same weights and batch; the
parent asks each for one step in turn.
"""

import json
import os
import os.path as osp
import pickle
import statistics
import subprocess
import sys
import tempfile

import torch

from . import worker as worker_module
from .models import STEP_CONFIGS, config_in, step_config
from .options import REPO
from .worker import PROTOCOL


def worker_spec(options, repo, names, tmp_dir, **settings):
    """A :func:`~.worker.step_worker` spec: the first config of ``names`` in
    ``repo``, shrunk and pickled into ``tmp_dir``. ``settings``: ``amp``,
    ``channels_last`` (None: the config's) and ``compile`` (None: eager, or
    ``torch.compile`` keyword arguments)."""
    cfg = step_config(config_in(repo, names), options.depth, settings['channels_last'])
    return config_spec(
        options, repo, cfg, tmp_dir, settings['amp'], settings['compile']
    )


def config_spec(options, repo, cfg, tmp_dir, amp, compile=None):
    """A :func:`~.worker.step_worker` spec for ``cfg``'s model and optimiser
    wrapper (pickled into ``tmp_dir``) in ``repo``'s tree."""
    path = osp.join(tmp_dir, f'config-{len(os.listdir(tmp_dir))}.pkl')
    with open(path, 'wb') as f:
        pickle.dump(
            dict(model=cfg.model.to_dict(), optim_wrapper=cfg.optim_wrapper.to_dict()),
            f,
        )
    return dict(
        repo=repo,
        config=path,
        batch=options.batch,
        size=options.size,
        threads=options.threads or torch.get_num_threads(),
        device=options.device,
        amp=amp,
        compile=compile,
    )


class StepWorker:
    """A :func:`~.worker.step_worker` process of one tree (``spec['repo']``)."""

    def __init__(self, spec, log_dir, name):
        self.name = name
        self.log_path = osp.join(log_dir, f'worker-{len(os.listdir(log_dir))}.log')
        env = dict(os.environ)
        env['PYTHONPATH'] = os.pathsep.join(
            [spec['repo'], env.get('PYTHONPATH', '')]
        ).rstrip(os.pathsep)
        env['OMP_NUM_THREADS'] = str(spec['threads'])
        if spec['compile'] is not None:  # a cold compile, as a new run has
            env['TORCHINDUCTOR_CACHE_DIR'] = self.log_path[:-4] + '-inductor'
        self.log = open(self.log_path, 'w')
        script = osp.abspath(worker_module.__file__)
        self.proc = subprocess.Popen(
            [sys.executable, script, json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            cwd=spec['repo'],
            env=env,
        )
        self.ready = self.read()

    def read(self):
        for line in self.proc.stdout:
            if line.startswith(PROTOCOL):
                return json.loads(line[len(PROTOCOL) :])
        self.proc.wait()
        self.log.flush()
        with open(self.log_path) as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f'step worker {self.name} ended:\n{tail}')

    def step(self):
        self.proc.stdin.write('step\n')
        self.proc.stdin.flush()
        return self.read()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write('quit\n')
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def export_revision(ref, dest):
    """The files of git revision ``ref`` of this repository, in ``dest``
    (``git archive``: nothing in the repository changes). Returns the commit."""
    import tarfile

    commit = subprocess.run(
        ['git', '-C', REPO, 'rev-parse', '--verify', f'{ref}^{{commit}}'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.Popen(
        ['git', '-C', REPO, 'archive', commit], stdout=subprocess.PIPE
    )
    with tarfile.open(fileobj=archive.stdout, mode='r|') as tar:
        tar.extractall(dest, filter='data')
    if archive.wait() != 0:
        raise RuntimeError(f'git archive {commit} failed')
    return commit


def interleave(workers, rounds):
    """Every worker steps once per round (order reversed every other round,
    so neither side always runs after the other). Returns the results."""
    results = {name: [] for name in workers}
    for index in range(rounds):
        order = list(workers.items())
        for name, worker in order if index % 2 == 0 else order[::-1]:
            results[name].append(worker.step())
    return results


def max_diff(a, b):
    """The largest absolute difference of two equally long sequences."""
    return max(abs(x - y) for x, y in zip(a, b))


def measure_revisions(options, tmp_dir):
    """This tree against ``options.baseline`` (and compiled, with
    ``options.compile``): one worker process per side, steps interleaved in
    one run. Returns the baseline's commit and ``(name, row)`` per config."""
    base_dir = osp.join(tmp_dir, 'baseline')
    os.makedirs(base_dir)
    commit = export_revision(options.baseline, base_dir)
    rows = []
    for name, config in STEP_CONFIGS.items():
        state = osp.join(tmp_dir, 'state.pth')
        common = dict(amp=options.amp, channels_last=options.channels_last)
        compiled = dict(backend=options.compile_backend)
        sides = {'ours': (REPO, None)}
        if options.compile:
            sides['ours, compiled'] = (REPO, compiled)
        sides['baseline'] = (base_dir, None)
        workers = {}
        try:
            for key, (repo, compiler) in sides.items():
                spec = worker_spec(
                    options, repo, config, tmp_dir, compile=compiler, **common
                )
                # 'ours' first: it writes the weights, the others load them
                spec['save' if key == 'ours' else 'load'] = state
                workers[key] = StepWorker(spec, tmp_dir, key)
            # two warm-up rounds; a compiled model compiles in the first call
            results = interleave(workers, options.steps + 2)
        finally:
            for worker in workers.values():
                worker.close()
        times = {k: [r['time'] for r in v[2:]] for k, v in results.items()}
        medians = {k: statistics.median(v) for k, v in times.items()}
        losses = {k: [r['loss'] for r in v] for k, v in results.items()}
        row = dict(
            baseline=medians['baseline'],
            ours=medians['ours'],
            ratio=medians['ours'] / medians['baseline'],
            times=times,  # every timed step of every side, in order
            packages={k: w.ready['package'] for k, w in workers.items()},
            loss_diff=max_diff(losses['ours'], losses['baseline']),
        )
        if options.compile:
            warm = results['ours, compiled'][:2]
            t_compiled = medians['ours, compiled']
            compile_time = sum(r['time'] - t_compiled for r in warm)
            saved = medians['baseline'] - t_compiled
            row.update(
                compiled=t_compiled,
                compiled_ratio=t_compiled / medians['baseline'],
                compiled_vs_eager=t_compiled / medians['ours'],
                compile_time=compile_time,
                payback_steps=compile_time / saved if saved > 0 else None,
                compiled_loss_diff=max_diff(losses['ours, compiled'], losses['ours']),
            )
        rows.append((name, row))
    return commit, rows


def revision_rows(options, log):
    """:func:`measure_revisions` as table rows (passed to ``log``) and report
    entries ``'baseline'`` (the commit) and ``'revision NAME'``."""
    with tempfile.TemporaryDirectory() as tmp:
        commit, rows = measure_revisions(options, tmp)
    report = {'baseline': commit}
    lines = []
    for name, row in rows:
        report[f'revision {name}'] = row
        sides = [('', row['ours'], row['ratio'])]
        if options.compile:
            sides.append((', compiled', row['compiled'], row['compiled_ratio']))
        for suffix, ours, ratio in sides:
            lines.append(
                f'| step vs {commit[:7]}, {name}{suffix} (s) | '
                f'{row["baseline"]:.3f} | {ours:.3f} | {ratio:.3f} | '
                'C5 <= 0.85, FPN <= 1 |'
            )
    log('\n'.join(lines))
    return lines, report


def payback_notes(report):
    """A line per compiled revision row: compile time, compiled / eager,
    steps until the compile time is saved against the baseline."""
    notes = []
    for name, row in report.items():
        if name.startswith('revision ') and 'compile_time' in row:
            payback = row['payback_steps']
            notes.append(
                f'\n{name[9:]}: compiling took {row["compile_time"]:.0f} s; '
                f'compiled / eager step {row["compiled_vs_eager"]:.3f}; paid back '
                + (f'after {payback:.0f} steps' if payback else 'never')
                + f' against {report["baseline"][:7]}'
            )
    return notes
