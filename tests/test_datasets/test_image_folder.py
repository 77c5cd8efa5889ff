import os

import numpy as np
import pytest
from conftest import DEMO_CONFIG
from mmengine.config import Config
from mmengine.dataset import BaseDataset

from mmpixpro.datasets import IMG_EXTENSIONS, ImageFolder
from mmpixpro.datasets.file_list import write_file_list


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


def write_lines(path, lines) -> str:
    path.write_text(''.join(f'{line}\n' for line in lines))
    return str(path)


def test_list_file_equals_the_walk(photos_dir, tmp_path):
    walked = ImageFolder(data_root=photos_dir)
    count = write_file_list(photos_dir, str(tmp_path / 'photos.txt'), IMG_EXTENSIONS)
    listed = ImageFolder(data_root=photos_dir, ann_file=str(tmp_path / 'photos.txt'))
    assert count == len(listed) == len(walked) == 12
    paths = [listed.get_data_info(i)['img_path'] for i in range(len(listed))]
    assert paths == [walked.get_data_info(i)['img_path'] for i in range(len(walked))]


def test_list_file_is_not_checked_at_start_up(tmp_path):
    """Entries are joined, not opened: the list alone sizes the dataset;
    blank lines are skipped, absolute paths kept, and a relative list file is
    read from under data_root."""
    root = tmp_path / 'images'
    root.mkdir()
    write_lines(root / 'list.txt', ['n01/a.JPEG', '', 'n02/b.png', '/abs/c.jpg', ' '])
    ds = ImageFolder(data_root=str(root), ann_file='list.txt')
    paths = [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
    assert paths == [str(root / 'n01/a.JPEG'), str(root / 'n02/b.png'), '/abs/c.jpg']


def test_unreadable_listed_image_is_skipped_and_reported(photos_dir, tmp_path):
    """The skip-and-count behaviour holds for listed images too."""
    cfg = Config.fromfile(DEMO_CONFIG)
    photos = [p for p in sorted(os.listdir(photos_dir)) if p.endswith('.png')][:2]
    ann = write_lines(tmp_path / 'list.txt', ['missing.jpg', *photos])
    ds = ImageFolder(
        data_root=photos_dir,
        ann_file=ann,
        pipeline=cfg.train_dataloader.dataset.pipeline,
    )
    skipped = ds[0]['data_samples'].skipped_images  # redraws may hit it again
    assert skipped and set(skipped) == {os.path.join(photos_dir, 'missing.jpg')}
    assert 'skipped_images' not in ds[1]['data_samples']


def test_list_file_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        ImageFolder(data_root=str(tmp_path), ann_file=str(tmp_path / 'nope.txt'))
    empty = write_lines(tmp_path / 'empty.txt', ['', '  '])
    with pytest.raises(ValueError, match='empty.txt.*lists no image'):
        ImageFolder(data_root=str(tmp_path), ann_file=empty)


def test_streamed_serialisation_equals_mmengine(photos_dir):
    """The same bytes and addresses as mmengine's BaseDataset serialisation."""
    ours = ImageFolder(data_root=photos_dir)
    plain = ImageFolder(data_root=photos_dir, serialize_data=False)
    paths = [info['img_path'] for info in plain.data_list]
    data_bytes, address = BaseDataset._serialize_data(plain)  # clears data_list
    np.testing.assert_array_equal(ours.data_bytes, data_bytes)
    np.testing.assert_array_equal(ours.data_address, address)
    assert [ours.get_data_info(i)['img_path'] for i in range(len(ours))] == paths
