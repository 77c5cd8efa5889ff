"""The one place that reads and writes mmengine ``Runner``'s private state.

mmengine's ``Runner`` keeps what a run starts from (``load_from``,
``resume``), whether it has loaded it, and its train loop (a config dict
until built) in private attributes with no public accessor. The hooks and
:class:`~.fault_tolerant_runner.FaultTolerantRunner` go through the functions
below; no other module of mmpixpro touches those attributes (a test greps
the package for ``RUNNER_FIELDS``).

Guaranteed for mmengine ``VERIFIED_MMENGINE`` (both ends included): each
function reads or writes exactly the attribute it names, with the meaning
that ``Runner.__init__``, ``load_or_resume``, ``resume``, ``load_checkpoint``
and ``train`` give it (read in mmengine's ``runner.py``, which differs only
in docstrings and type hints across that range); tested against the installed
one. Outside the range :func:`check_mmengine_version` warns once, and a
missing attribute is an ``AttributeError`` naming the range.
"""

import warnings
from typing import Optional

from mmengine.runner import BaseLoop
from mmengine.utils import digit_version

#: The mmengine releases whose ``Runner`` this module was read against.
VERIFIED_MMENGINE = ('0.10.0', '0.10.7')
#: The private attributes of mmengine's ``Runner`` read or written here.
RUNNER_FIELDS = ('_load_from', '_resume', '_has_loaded', '_train_loop')
_warned = set()


def version_problem(version: str) -> Optional[str]:
    """One line saying that mmengine ``version`` lies outside
    ``VERIFIED_MMENGINE``, or ``None`` when it lies inside."""
    low, high = VERIFIED_MMENGINE
    if digit_version(low) <= digit_version(version) <= digit_version(high):
        return None
    return (
        f'mmengine {version} is outside {low} - {high}, the releases whose '
        "Runner mmpixpro's runner_state was read against: resume, load_from "
        'and the hooks that use them may misbehave; see '
        'docs/en/notes/development.md'
    )


def check_mmengine_version(version: Optional[str] = None) -> Optional[str]:
    """Warn once per version when mmengine ``version`` (the installed one if
    ``None``) lies outside ``VERIFIED_MMENGINE``; returns that line.

    A warning, not an error: a new release usually keeps these attributes,
    and a missing one still stops the run naming the range."""
    if version is None:
        import mmengine

        version = mmengine.__version__
    problem = version_problem(version)
    if problem is not None and version not in _warned:
        _warned.add(version)
        warnings.warn(problem, RuntimeWarning, stacklevel=2)
    return problem


def _get(runner, field: str):
    check_mmengine_version()
    try:
        return getattr(runner, field)
    except AttributeError:
        low, high = VERIFIED_MMENGINE
        raise AttributeError(
            f'{type(runner).__name__} has no {field}, which mmengine {low} - '
            f"{high}'s Runner sets: mmpixpro.engine.runner_state must be read "
            'against this mmengine'
        ) from None


def resume_requested(runner) -> bool:
    """Whether the run resumes (``resume=True``, ``--resume``)."""
    return bool(_get(runner, '_resume'))


def checkpoint_to_load(runner) -> Optional[str]:
    """The checkpoint ``load_or_resume`` will load or resume from (the
    ``load_from`` given), ``None`` for none or, with ``resume``, the work
    dir's latest."""
    return _get(runner, '_load_from')


def set_checkpoint_to_load(runner, path: Optional[str], resume: bool) -> None:
    """What ``load_or_resume`` does next: resume from ``path`` (``None``:
    the work dir's latest) when ``resume``, else load ``path`` (``None``:
    nothing)."""
    for field in ('_load_from', '_resume'):
        _get(runner, field)  # mmengine's, never a new attribute
    runner._load_from, runner._resume = path, resume


def has_loaded(runner) -> bool:
    """Whether a checkpoint was loaded or resumed from: ``load_or_resume``
    then does nothing."""
    return bool(_get(runner, '_has_loaded'))


def mark_loaded(runner) -> None:
    """Record that a checkpoint was loaded, as mmengine's own
    ``load_checkpoint`` does."""
    _get(runner, '_has_loaded')  # mmengine's, never a new attribute
    runner._has_loaded = True


def train_loop_built(runner) -> bool:
    """Whether the train loop is built: inside ``train()`` (``val()`` and
    ``test()`` leave it a config), without building it as ``train_loop``
    and ``iter`` would."""
    return isinstance(_get(runner, '_train_loop'), BaseLoop)


def current_train_iter(runner) -> int:
    """The train loop's iteration, 0 while it is not built (without building
    it, unlike ``runner.iter``)."""
    return getattr(_get(runner, '_train_loop'), 'iter', 0)
