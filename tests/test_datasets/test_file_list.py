"""The folder walk and list files on awkward trees: hidden folders, link
loops, names that are not UTF-8, FIFOs, byte order marks."""

import os
import shutil
import subprocess
import sys
import threading

import pytest
from conftest import PHOTOS, REPO

from mmpixpro.datasets import IMG_EXTENSIONS, ImageFolder
from mmpixpro.datasets.file_list import (
    FolderLoopError,
    list_images,
    read_file_list,
    write_file_list,
)
from mmpixpro.datasets.transforms import LoadImageOrSkip

PHOTO = os.path.join(PHOTOS, 'chelsea.png')


def put(root, rel):
    path = os.path.join(str(root), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shutil.copy(PHOTO, path)
    return path


def test_hidden_files_and_folders_are_not_walked(tmp_path):
    for rel in [
        'n01/a.png',
        'n01/.b.png',  # hidden file
        '.snapshot/n01/a.png',  # a file server's snapshots
        'n02/.ipynb_checkpoints/c.png',
        'n02/d.png',
    ]:
        put(tmp_path, rel)
    assert list_images(str(tmp_path), IMG_EXTENSIONS) == ['n01/a.png', 'n02/d.png']
    ds = ImageFolder(data_root=str(tmp_path))
    assert len(ds) == 2


@pytest.mark.parametrize(
    'link, target',
    [('n01/loop', '..'), ('n01/self', '.'), ('n01/up/deeper', '../..')],
    ids=['parent', 'itself', 'two-up'],
)
def test_a_link_loop_is_one_clear_error(tmp_path, link, target):
    put(tmp_path, 'n01/a.png')
    os.makedirs(os.path.dirname(str(tmp_path / link)), exist_ok=True)
    os.symlink(target, str(tmp_path / link))
    with pytest.raises(FolderLoopError, match=f"'{link}' leads back to") as info:
        list_images(str(tmp_path), IMG_EXTENSIONS)
    assert 'remove or fix that link' in str(info.value)
    assert '\n' not in str(info.value)
    with pytest.raises(FolderLoopError):
        ImageFolder(data_root=str(tmp_path))


def test_links_that_do_not_loop_are_followed(tmp_path):
    """A link to a folder elsewhere, twice; a broken link; a link to itself
    (ELOOP on every stat) is no folder and no image."""
    put(tmp_path, 'shared/x.png')
    (tmp_path / 'data').mkdir()
    os.symlink(str(tmp_path / 'shared'), str(tmp_path / 'data' / 'a'))
    os.symlink(str(tmp_path / 'shared'), str(tmp_path / 'data' / 'b'))
    os.symlink('missing.png', str(tmp_path / 'data' / 'broken.png'))
    os.symlink('self.png', str(tmp_path / 'data' / 'self.png'))
    assert list_images(str(tmp_path / 'data'), IMG_EXTENSIONS) == ['a/x.png', 'b/x.png']


def test_the_tool_reports_a_loop_in_one_line(tmp_path):
    put(tmp_path, 'data/n01/a.png')
    os.symlink('..', str(tmp_path / 'data' / 'n01' / 'loop'))
    out = tmp_path / 'list.txt'
    proc = subprocess.run(
        [
            sys.executable,
            'tools/misc/make_file_list.py',
            str(tmp_path / 'data'),
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if 'error' in line]
    assert len(errors) == 1 and "'n01/loop' leads back to '.'" in errors[0]
    assert 'Traceback' not in proc.stderr
    assert not out.exists()


NON_UTF8 = b'caf\xe9 \xff.png'  # Latin-1 and a byte no encoding decodes


def test_names_that_are_not_utf8_round_trip_through_a_list(tmp_path, capsys):
    root = tmp_path / 'data'
    root.mkdir()
    shutil.copy(PHOTO, os.path.join(os.fsencode(str(root)), NON_UTF8))
    put(root, 'plain.png')
    walked = ImageFolder(data_root=str(root))
    walked_paths = [walked.get_data_info(i)['img_path'] for i in range(len(walked))]
    out = tmp_path / 'list.txt'
    assert write_file_list(str(root), str(out), IMG_EXTENSIONS) == 2
    assert NON_UTF8 + b'\n' in out.read_bytes()  # the file system's bytes
    listed = ImageFolder(data_root=str(root), ann_file=str(out))
    listed_paths = [listed.get_data_info(i)['img_path'] for i in range(len(listed))]
    assert listed_paths == walked_paths
    load = LoadImageOrSkip()
    for path in listed_paths:  # both load, the odd name included
        assert load(dict(img_path=path))['img'].shape == (300, 451, 3), path


def test_a_byte_order_mark_and_windows_line_ends(tmp_path):
    put(tmp_path, 'a.png')
    put(tmp_path, 'b.png')
    (tmp_path / 'list.txt').write_bytes(b'\xef\xbb\xbfa.png\r\nb.png\r\n')
    assert read_file_list(str(tmp_path / 'list.txt')) == ['a.png', 'b.png']
    ds = ImageFolder(
        data_root=str(tmp_path), ann_file='list.txt', pipeline=[LoadImageOrSkip()]
    )
    assert ds[0]['img'].shape == (300, 451, 3)  # the first path is readable


def test_a_list_file_that_is_a_fifo_is_refused(tmp_path):
    os.mkfifo(str(tmp_path / 'list.txt'))
    with pytest.raises(ValueError, match='list.txt.*not a regular file'):
        ImageFolder(data_root=str(tmp_path), ann_file=str(tmp_path / 'list.txt'))


def test_a_fifo_named_in_a_list_is_skipped_not_waited_on(tmp_path):
    """The loader runs in a thread: if it opened the FIFO and waited for a
    writer, the test opens the FIFO for writing to release it, and fails."""
    fifo = str(tmp_path / 'pipe.png')
    os.mkfifo(fifo)
    put(tmp_path, 'a.png')
    (tmp_path / 'list.txt').write_text('pipe.png\na.png\n')
    ds = ImageFolder(
        data_root=str(tmp_path), ann_file='list.txt', pipeline=[LoadImageOrSkip()]
    )
    out = []
    thread = threading.Thread(target=lambda: out.append(ds[0]), daemon=True)
    thread.start()
    thread.join(60)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # EOF for the reader
        thread.join()
        pytest.fail('the loader waited for a writer on the FIFO')
    assert out[0]['img'].shape == (300, 451, 3)  # another image was drawn
    results = dict(img_path=fifo)
    assert LoadImageOrSkip()(results) is None
    assert (
        results['unreadable_reason'] == 'not a regular file (a FIFO, device or folder)'
    )


def test_skipped_reasons_travel_with_the_sample(tmp_path):
    """The dataset hands the loader's reason on with each skipped path."""
    from conftest import DEMO_CONFIG
    from mmengine.config import Config

    put(tmp_path, 'a.png')
    (tmp_path / 'empty.png').write_bytes(b'')
    (tmp_path / 'list.txt').write_text('missing.png\nempty.png\na.png\n')
    pipeline = Config.fromfile(DEMO_CONFIG).train_dataloader.dataset.pipeline
    ds = ImageFolder(data_root=str(tmp_path), ann_file='list.txt', pipeline=pipeline)
    reasons = {}
    for i in (0, 1):
        sample = ds[i]['data_samples']
        reasons.update(zip(sample.skipped_images, sample.skipped_reasons))
    assert reasons[str(tmp_path / 'missing.png')] == 'No such file or directory'
    assert reasons[str(tmp_path / 'empty.png')].startswith(
        'no image size in its header'
    )
