"""Read a plain pickle of numpy arrays (detectron2's ``.pkl`` weights) as data.

detectron2 reads ``.pkl`` weights with ``pickle.load(f, encoding='latin1')``,
and the conversion scripts of MoCo, DenseCL, PixPro, SoCo, SlotCon and
PyContrast write ``pickle.dump({'model': {name: ndarray}, '__author__': ...,
'matching_heuristics': True})``. Unpickling runs whatever callable the file
names, so :class:`NumpyUnpickler` resolves only the names that numpy arrays,
dtypes and scalars and ``OrderedDict`` pickle through (and ``_codecs.encode``,
which protocol-2 pickles use for bytes); any other name stops the read before
it is looked up, let alone called, and the error names it.
"""

import importlib
import pickle
from typing import BinaryIO, FrozenSet, Tuple

# (module, name) admitted; numpy 2 writes numpy._core, numpy 1 numpy.core
_NUMPY_CORE = ('numpy.core.multiarray', 'numpy._core.multiarray')
ADMITTED: FrozenSet[Tuple[str, str]] = frozenset(
    [(m, n) for m in _NUMPY_CORE for n in ('_reconstruct', 'scalar')]
    + [
        ('numpy', 'ndarray'),
        ('numpy', 'dtype'),
        ('collections', 'OrderedDict'),
        ('_codecs', 'encode'),
    ]
)

# What torch.save writes first in its legacy (non-zip) format.
TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle names something other than numpy arrays and containers."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f'it holds {name}, which is code, not data: refused without running '
            'it (a weights pickle holds numpy arrays and plain containers only)'
        )
        self.name = name


class NumpyUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that resolves the :data:`ADMITTED` names only."""

    def find_class(self, module: str, name: str):
        if (module, name) not in ADMITTED:
            raise RefusedGlobal(f'{module}.{name}')
        try:
            return getattr(importlib.import_module(module), name)
        except ImportError:  # a numpy 2 pickle read by numpy 1, or back
            other = [m for m in _NUMPY_CORE if m != module][0]
            return getattr(importlib.import_module(other), name)

    def persistent_load(self, pid):
        raise RefusedGlobal(f'a persistent id ({type(pid).__name__})')


def load_numpy_pickle(f: BinaryIO) -> object:
    """The first object pickled in ``f`` (read from its current position),
    with the names of :data:`ADMITTED` only; raises :class:`RefusedGlobal`
    naming any other (nothing of it is run) and ``pickle.UnpicklingError`` /
    ``EOFError`` for what is not a pickle."""
    return NumpyUnpickler(f, encoding='latin1').load()
