"""The training engine: the optimizers, optimizer wrappers and hooks of
PixPro's training (:mod:`.optimizers`, :mod:`.optim_wrappers`,
:mod:`.hooks`), and the robustness layer, how a run survives what goes
wrong, one concept a file, each module's docstring saying what it
guarantees:

- :mod:`.fault_tolerant_runner`: the Runner that resumes from the newest
  checkpoint that loads, also under torchrun's restarts;
- :mod:`.work_dir_lock`, :mod:`.stale_lock`, :mod:`.refused_start`: one run
  per work dir, a crashed node's lock taken over only when asked, a refused
  start not retried by restarts;
- :mod:`.run_failure`, :mod:`.decoder_crash`: failures a restart would only
  repeat, recorded and not retried;
- :mod:`.resume_checkpoint`, :mod:`.atomic_backend`: which checkpoint a run
  resumes from; checkpoints written atomically, with one line on a full disk;
- :mod:`.checkpoint_reader`, :mod:`.checkpoint_download`,
  :mod:`.checkpoint_checks`, :mod:`.checkpoint_digest`,
  :mod:`.safe_checkpoint_loading`, :mod:`.publish`: every checkpoint read as
  data from a stranger, its tensors covered by a digest, published as plain
  data;
- :mod:`.run_args`, :mod:`.config_check`: a wrong option or config key
  stops the run at start, in one line;
- :mod:`.cpu_distributed`: the same multi-process job on CPUs (gloo);
- :mod:`.runner_state`: the one place that reads and writes mmengine
  Runner's private state, against the mmengine releases it names.

Below it, ``utils`` holds the general helpers it builds on (output files
written atomically, files opened without following links, the decoding
breadcrumb that the image loader writes); above it nothing imports upward
(docs/en/notes/development.md, "Import layers").
"""

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
