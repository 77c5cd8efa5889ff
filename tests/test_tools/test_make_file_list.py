"""tools/misc/make_file_list.py writes what ImageFolder walks."""

import os
import stat
import subprocess
import sys

import pytest
from conftest import REPO
from helpers import load_tool

from mmpixpro.datasets import ImageFolder


def test_writes_the_sorted_relative_paths(tmp_path, capsys):
    root = tmp_path / 'train'
    for rel in ['n02/c.jpg', 'n01/deep/b.PNG', 'n01/a.JPEG', 'n01/notes.txt', '.x.jpg']:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b'x')
    out = tmp_path / 'train.txt'
    count = load_tool('tools/misc/make_file_list.py').main([str(root), str(out)])
    assert out.read_text().splitlines() == ['n01/a.JPEG', 'n01/deep/b.PNG', 'n02/c.jpg']
    assert (
        count == 3
        and f'wrote 3 image paths (relative to {root})' in capsys.readouterr().out
    )
    listed = ImageFolder(data_root=str(root), ann_file=str(out))
    walked = ImageFolder(data_root=str(root))
    paths = [listed.get_data_info(i)['img_path'] for i in range(len(listed))]
    assert paths == [walked.get_data_info(i)['img_path'] for i in range(len(walked))]
    assert paths[0] == os.path.join(str(root), 'n01/a.JPEG')


def test_only_the_given_extensions_and_errors(tmp_path):
    tool = load_tool('tools/misc/make_file_list.py')
    (tmp_path / 'a.jpg').write_bytes(b'x')
    (tmp_path / 'b.png').write_bytes(b'x')
    out = tmp_path / 'png.txt'
    assert tool.main([str(tmp_path), str(out), '--extensions', '.PNG']) == 1
    assert out.read_text() == 'b.png\n'
    with pytest.raises(FileNotFoundError, match='missing'):
        tool.main([str(tmp_path / 'missing'), str(tmp_path / 'x.txt')])
    with pytest.raises(ValueError, match='no image file'):
        tool.main([str(tmp_path), str(tmp_path / 'x.txt'), '--extensions', '.webp'])
    assert not (tmp_path / 'x.txt').exists()


def test_an_existing_list_is_replaced_only_when_asked(tmp_path, capsys):
    tool = load_tool('tools/misc/make_file_list.py')
    (tmp_path / 'a.jpg').write_bytes(b'x')
    out = tmp_path / 'list.txt'
    out.write_text('previous\n')
    with pytest.raises(FileExistsError, match='list.txt.*exists.*--overwrite'):
        tool.main([str(tmp_path), str(out)])
    assert out.read_text() == 'previous\n'
    assert tool.main([str(tmp_path), str(out), '--overwrite']) == 1
    assert out.read_text() == 'a.jpg\n'
    assert 'completed: 1' in capsys.readouterr().err  # the progress bar


def test_names_a_list_cannot_carry_are_refused(tmp_path):
    (tmp_path / 'two\nlines.jpg').write_bytes(b'x')
    out = tmp_path / 'list.txt'
    out.write_text('previous\n')
    tool = load_tool('tools/misc/make_file_list.py')
    with pytest.raises(ValueError, match='line break.*rename it'):
        tool.main([str(tmp_path), str(out), '--overwrite'])
    assert out.read_text() == 'previous\n'


WRITE_WITH_LIMITS = """
import os, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]),) * 2)
os.umask(int(sys.argv[2], 8))
sys.argv = ['make_file_list.py'] + sys.argv[3:]
exec(open('tools/misc/make_file_list.py').read())
"""


def run_tool(size_limit, umask, *args):
    """The tool in a subprocess whose files may not grow past
    ``size_limit`` bytes (the fault a full disk gives), under ``umask``."""
    return subprocess.run(
        [sys.executable, '-c', WRITE_WITH_LIMITS, str(size_limit), umask, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )


def test_a_failed_write_keeps_the_previous_list(tmp_path):
    """A write that fails half-way (the file size limit standing in for a
    full disk) leaves the previous list as it was and no temporary file;
    a write that succeeds gives the umask's mode, readable by the group."""
    root = tmp_path / 'train'
    for i in range(300):
        (root / f'n{i % 3}').mkdir(parents=True, exist_ok=True)
        (root / f'n{i % 3}' / f'image_{i:05d}.jpg').write_bytes(b'x')
    out = tmp_path / 'lists' / 'train.txt'
    out.parent.mkdir()
    out.write_text('previous\n')
    failed = run_tool(4096, '022', str(root), str(out), '--overwrite')
    assert failed.returncode == 2, failed.stderr[-2000:]
    errors = [line for line in failed.stderr.splitlines() if 'error:' in line]
    assert len(errors) == 1 and 'could not write' in errors[0], failed.stderr
    assert 'train.txt' in errors[0] and 'File too large' in errors[0]
    assert out.read_text() == 'previous\n'
    assert os.listdir(out.parent) == ['train.txt']  # no temporary file left
    done = run_tool(2**30, '002', str(root), str(out), '--overwrite')
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(out.read_text().splitlines()) == 300
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o664  # 0o666 minus the umask
