"""``tools/train.py`` on a disk that fills while one checkpoint is written.

``os.write`` (the binding of the write(2) call that ``AtomicLocalBackend``
makes) writes the first MiB of the temporary file of ``$ENOSPC_AT`` (e.g.
``epoch_2.pth``) and then fails with ``ENOSPC``, as the kernel does when the
file system is full. Every other file is written normally. Run as
``TRAIN_SCRIPT`` of ``tools/dist_train.sh`` by test_multiprocess_faults.py.
"""

import errno
import fnmatch
import os
import os.path as osp
import runpy
import sys

TRAIN = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools', 'train.py'
)
FULL_AT = os.environ['ENOSPC_AT']
ROOM = 1 << 20
real_write = os.write


def write(fd, data):
    try:
        name = osp.basename(os.readlink(f'/proc/self/fd/{fd}'))
    except OSError:
        name = ''
    if fnmatch.fnmatch(name, f'.{FULL_AT}.*.tmp'):
        left = ROOM - os.lseek(fd, 0, os.SEEK_CUR)
        if left <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        data = memoryview(data)[:left]
    return real_write(fd, data)


os.write = write
sys.argv = [TRAIN, *sys.argv[1:]]
runpy.run_path(TRAIN, run_name='__main__')
