from .atomic_backend import AtomicLocalBackend
from .checkpoint_reader import read_checkpoint
from .cpu_distributed import CPUDistributedDataParallel, setup_cpu_distributed
from .hooks import *  # noqa: F401,F403
from .optim_wrappers import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403

__all__ = [
    'AtomicLocalBackend',
    'CPUDistributedDataParallel',
    'read_checkpoint',
    'setup_cpu_distributed',
]
