"""tools/misc/make_file_list.py writes what ImageFolder walks."""

import os

import pytest
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
        tool.main([str(tmp_path / 'missing'), str(out)])
    with pytest.raises(ValueError, match='no image file'):
        tool.main([str(tmp_path), str(out), '--extensions', '.webp'])
