import os

import pytest

from mmpixpro.datasets import ImageFolder


def test_bundled_photos(photos_dir):
    ds = ImageFolder(data_root=photos_dir)
    assert len(ds) == 12
    paths = [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
    assert paths == sorted(paths)
    assert not any(p.endswith('.md') for p in paths)


def test_nested_folders_and_extensions(tmp_path):
    for rel in ['n01/a.JPEG', 'n01/deep/b.png', 'n02/c.jpg', 'n02/notes.txt']:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b'x')
    ds = ImageFolder(data_root=str(tmp_path))
    names = [os.path.basename(ds.get_data_info(i)['img_path']) for i in range(len(ds))]
    assert names == ['a.JPEG', 'b.png', 'c.jpg']


def test_missing_folder_names_the_path(tmp_path):
    missing = str(tmp_path / 'nope')
    with pytest.raises(FileNotFoundError, match='nope'):
        ImageFolder(data_root=missing)


def test_empty_folder_names_the_path(tmp_path):
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'empty' / 'readme.txt').write_text('no images')
    with pytest.raises(ValueError, match='empty.*no image'):
        ImageFolder(data_root=str(tmp_path / 'empty'))
