"""tools/misc/split_coco.py on a generated COCO file (the library:
mmpixpro.benchmarks.semi_coco.split)."""

import json
import os
import os.path as osp
import stat
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO
from helpers import load_tool

from mmpixpro.benchmarks.semi_coco import split

SPLIT = osp.join(REPO, 'tools', 'misc', 'split_coco.py')
NUM_IMAGES = 200


@pytest.fixture(scope='module')
def split_coco():
    return load_tool('tools/misc/split_coco.py')


def make_coco(num_images: int = NUM_IMAGES, seed: int = 0) -> dict:
    """A COCO instances dict: 0-3 annotations per image, 3 categories."""
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    # Non-contiguous ids, as in COCO, so that ids are not list positions.
    for i in range(num_images):
        image_id = 1000 + 7 * i
        images.append(
            {
                'id': image_id,
                'file_name': f'{image_id:012d}.jpg',
                'height': 48,
                'width': 64,
            }
        )
        for _ in range(int(rng.integers(0, 4))):
            annotations.append(
                {
                    'id': len(annotations) + 1,
                    'image_id': image_id,
                    'category_id': int(rng.choice([1, 2, 5])),
                    'bbox': [1.0, 2.0, 10.0, 12.0],
                    'area': 120.0,
                    'iscrowd': 0,
                }
            )
    return {
        'info': {'description': 'fake COCO', 'version': '1.0', 'year': 2017},
        'licenses': [{'id': 1, 'name': 'test', 'url': ''}],
        'images': images,
        'annotations': annotations,
        'categories': [
            {'id': 1, 'name': 'person', 'supercategory': 'person'},
            {'id': 2, 'name': 'bicycle', 'supercategory': 'vehicle'},
            {'id': 5, 'name': 'airplane', 'supercategory': 'vehicle'},
        ],
    }


@pytest.fixture
def coco_file(tmp_path):
    data = make_coco()
    path = tmp_path / 'instances_train2017.json'
    path.write_text(json.dumps(data))
    return str(path), data


def read(path) -> dict:
    with open(path) as f:
        return json.load(f)


def file_names(out_dir) -> list:
    return sorted(os.listdir(out_dir))


def expected_names(folds, percents) -> list:
    names = []
    for fold in range(1, folds + 1):
        for p in percents:
            names += [
                f'instances_train2017.{fold}@{p}.json',
                f'instances_train2017.{fold}@{p}-unlabeled.json',
            ]
    return sorted(names)


def check_split(data: dict, labelled: dict, unlabelled: dict, percent: float):
    """Sizes, annotations, union/intersection, and copied entries."""
    all_ids = {im['id'] for im in data['images']}
    lab_ids = [im['id'] for im in labelled['images']]
    unl_ids = [im['id'] for im in unlabelled['images']]
    expected = max(1, round(len(data['images']) * percent / 100))
    assert len(lab_ids) == len(set(lab_ids)) == expected
    assert len(unl_ids) == len(set(unl_ids)) == len(all_ids) - expected
    assert set(lab_ids) | set(unl_ids) == all_ids
    assert not set(lab_ids) & set(unl_ids)

    for part, ids in ((labelled, set(lab_ids)), (unlabelled, set(unl_ids))):
        want = [a for a in data['annotations'] if a['image_id'] in ids]
        assert part['annotations'] == want
        for key in ('info', 'licenses', 'categories'):
            assert part[key] == data[key]
        # Image entries are copied whole, not only their ids.
        by_id = {im['id']: im for im in data['images']}
        assert all(im == by_id[im['id']] for im in part['images'])
    assert len(labelled['annotations']) + len(unlabelled['annotations']) == len(
        data['annotations']
    )


def test_splits_are_exact(split_coco, coco_file, tmp_path, capsys):
    ann_file, data = coco_file
    out_dir = tmp_path / 'out'
    paths = split_coco.main(
        [
            '--ann-file',
            ann_file,
            '--out-dir',
            str(out_dir),
            '--percents',
            '1',
            '10',
            '0.5',
            '--folds',
            '3',
        ]
    )
    names = expected_names(3, ['1', '10', '0.5'])
    assert file_names(out_dir) == names
    assert sorted(osp.basename(p) for p in paths) == names
    for fold in (1, 2, 3):
        for label, percent in (('1', 1.0), ('10', 10.0), ('0.5', 0.5)):
            stem = out_dir / f'instances_train2017.{fold}@{label}'
            check_split(
                data,
                read(f'{stem}.json'),
                read(f'{stem}-unlabeled.json'),
                percent,
            )
    # 10% of 200 images is 20; 0.5% of 200 is 1.
    assert len(read(out_dir / 'instances_train2017.1@10.json')['images']) == 20
    assert len(read(out_dir / 'instances_train2017.1@0.5.json')['images']) == 1

    summary = capsys.readouterr().out
    for name in names:
        assert name in summary
    lab = read(out_dir / 'instances_train2017.2@10.json')
    line = next(
        ln
        for ln in summary.splitlines()
        if ln.split() and ln.split()[0] == 'instances_train2017.2@10.json'
    )
    assert line.split()[1:] == [str(len(lab['images'])), str(len(lab['annotations']))]


def test_default_five_folds_and_canonical_names(split_coco, coco_file, tmp_path):
    ann_file, data = coco_file
    out_dir = tmp_path / 'out'
    split_coco.main(
        [
            '--ann-file',
            ann_file,
            '--out-dir',
            str(out_dir),
            '--percents',
            '1.0',
            '10.0',
            '1',
        ]
    )
    names = file_names(out_dir)
    assert names == expected_names(5, ['1', '10'])
    assert not any('1.0' in n or '10.0' in n for n in names)
    for fold in range(1, 6):
        stem = out_dir / f'instances_train2017.{fold}@10'
        check_split(data, read(f'{stem}.json'), read(f'{stem}-unlabeled.json'), 10)


def test_same_seed_same_bytes_and_folds_differ(split_coco, coco_file, tmp_path):
    ann_file, _ = coco_file
    outs = []
    for name, seed in (('a', '3'), ('b', '3'), ('c', '4')):
        out_dir = tmp_path / name
        split_coco.main(
            [
                '--ann-file',
                ann_file,
                '--out-dir',
                str(out_dir),
                '--percents',
                '10',
                '--folds',
                '5',
                '--seed',
                seed,
            ]
        )
        outs.append(out_dir)
    a, b, c = outs
    assert file_names(a) == file_names(b) == file_names(c)
    for name in file_names(a):
        assert (a / name).read_bytes() == (b / name).read_bytes()

    subsets = [
        frozenset(
            im['id'] for im in read(a / f'instances_train2017.{f}@10.json')['images']
        )
        for f in range(1, 6)
    ]
    assert len(set(subsets)) == 5, 'every fold should draw its own subset'
    other_seed = frozenset(
        im['id'] for im in read(c / 'instances_train2017.1@10.json')['images']
    )
    assert other_seed != subsets[0]


def test_script_runs(coco_file, tmp_path):
    ann_file, data = coco_file
    out_dir = tmp_path / 'out'
    result = subprocess.run(
        [
            sys.executable,
            SPLIT,
            '--ann-file',
            ann_file,
            '--out-dir',
            str(out_dir),
            '--percents',
            '5',
            '--folds',
            '1',
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert 'instances_train2017.1@5-unlabeled.json' in result.stdout
    check_split(
        data,
        read(out_dir / 'instances_train2017.1@5.json'),
        read(out_dir / 'instances_train2017.1@5-unlabeled.json'),
        5,
    )


def test_script_error_exit_code(tmp_path):
    out_dir = tmp_path / 'out'
    missing = tmp_path / 'missing.json'
    result = subprocess.run(
        [
            sys.executable,
            SPLIT,
            '--ann-file',
            str(missing),
            '--out-dir',
            str(out_dir),
            '--percents',
            '5',
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 2
    assert str(missing) in result.stderr
    assert 'Traceback' not in result.stderr
    assert not out_dir.exists()


def deep_list(depth: int) -> str:
    return '[' * depth + ']' * depth


@pytest.mark.parametrize(
    'case, expected',
    [
        ('list_image_id', 'image id [1, 2] is a JSON list; COCO ids are numbers'),
        (
            'object_image_id',
            '"image_id" of an annotation {"id": 1} is a JSON object; COCO ids',
        ),
        ('deep_id', 'image id ' + '[' * 37 + '... is a JSON list'),
        ('deep_file', 'is not a COCO file: its JSON nests deeper than'),
    ],
)
def test_hostile_input_is_one_line_naming_the_file(coco_file, tmp_path, case, expected):
    """An id that is a list (TypeError before: a list cannot be looked up)
    or a file nested 10^6 deep (RecursionError before): one line on stderr,
    exit code 2, nothing written."""
    _, data = coco_file
    data = json.loads(json.dumps(data))
    if case == 'list_image_id':
        data['images'][3]['id'] = [1, 2]
    elif case == 'object_image_id':
        data['annotations'][0]['image_id'] = {'id': 1}
    elif case == 'deep_id':
        data['images'][0]['id'] = json.loads(deep_list(200))
    text = deep_list(10**6) if case == 'deep_file' else json.dumps(data)
    ann_file = tmp_path / 'instances_train2017.json'
    ann_file.write_text(text)
    out_dir = tmp_path / 'out'
    result = subprocess.run(
        [sys.executable, SPLIT, '--ann-file', str(ann_file), '--out-dir', str(out_dir)]
        + ['--percents', '10', '--folds', '1'],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith(f'split_coco.py: error: {ann_file}')
    assert expected in lines[0]
    assert not out_dir.exists() or os.listdir(out_dir) == []


def bad_file(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    'case, extra, error, message',
    [
        ('missing', [], FileNotFoundError, 'not found'),
        ('not_json', [], ValueError, 'not a valid JSON'),
        ('no_images', [], ValueError, '"images"'),
        ('no_annotations', [], ValueError, '"annotations"'),
        ('empty', [], ValueError, 'no images'),
        ('good', ['--percents', '0'], ValueError, 'got 0'),
        ('good', ['--percents', '100'], ValueError, 'got 100'),
        ('good', ['--percents', '-1'], ValueError, 'got -1'),
        ('good', ['--percents', '10', '150'], ValueError, 'got 150'),
        ('good', ['--folds', '0'], ValueError, 'got 0'),
    ],
)
def test_bad_input_writes_nothing(
    split_coco, coco_file, tmp_path, case, extra, error, message
):
    good_file, data = coco_file
    ann_file = {
        'missing': str(tmp_path / 'nope' / 'instances_train2017.json'),
        'not_json': bad_file(tmp_path, 'bad.json', '{"images": [1, 2'),
        'no_images': bad_file(tmp_path, 'a.json', json.dumps({'annotations': []})),
        'no_annotations': bad_file(
            tmp_path, 'b.json', json.dumps({'images': data['images']})
        ),
        # No images at all: even one labelled image is more than exist.
        'empty': bad_file(
            tmp_path, 'c.json', json.dumps({**data, 'images': [], 'annotations': []})
        ),
        'good': good_file,
    }[case]
    out_dir = tmp_path / 'out'
    out_dir.mkdir()
    argv = ['--ann-file', ann_file, '--out-dir', str(out_dir)]
    if '--percents' not in extra:
        argv += ['--percents', '10']
    with pytest.raises(error, match=message) as info:
        split_coco.main(argv + extra)
    if case not in ('good',):
        assert ann_file in str(info.value)
    assert os.listdir(out_dir) == []


def test_failed_write_leaves_nothing(split_coco, coco_file, tmp_path, monkeypatch):
    ann_file, _ = coco_file
    out_dir = tmp_path / 'out'
    real_dump = json.dump
    calls = []

    def failing_dump(obj, f, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError('disk full')
        return real_dump(obj, f, **kwargs)

    monkeypatch.setattr(split.json, 'dump', failing_dump)
    with pytest.raises(OSError, match='disk full'):
        split_coco.main(
            [
                '--ann-file',
                ann_file,
                '--out-dir',
                str(out_dir),
                '--percents',
                '10',
                '--folds',
                '2',
            ]
        )
    assert os.listdir(out_dir) == []


def test_outputs_are_named_after_the_input(split_coco, tmp_path):
    """Splitting val2017 next to the train folds leaves them as they were;
    a fold split into its own folder does not touch the fold."""
    data = make_coco()
    out_dir = tmp_path / 'semi_anns'
    train = tmp_path / 'instances_train2017.json'
    train.write_text(json.dumps(data))
    val = tmp_path / 'instances_val2017.json'
    val.write_text(json.dumps(make_coco(40, seed=1)))
    args = ['--out-dir', str(out_dir), '--percents', '10', '--folds', '1']
    split_coco.main(['--ann-file', str(train), *args])
    train_fold = (out_dir / 'instances_train2017.1@10.json').read_bytes()
    split_coco.main(['--ann-file', str(val), *args])
    assert file_names(out_dir) == sorted(
        expected_names(1, ['10'])
        + ['instances_val2017.1@10.json', 'instances_val2017.1@10-unlabeled.json']
    )
    assert (out_dir / 'instances_train2017.1@10.json').read_bytes() == train_fold
    assert len(read(out_dir / 'instances_val2017.1@10.json')['images']) == 4

    fold = str(out_dir / 'instances_train2017.1@10.json')  # 20 images
    split_coco.main(['--ann-file', fold, *args])
    assert (out_dir / 'instances_train2017.1@10.json').read_bytes() == train_fold
    again = read(out_dir / 'instances_train2017.1@10.1@10.json')
    assert len(again['images']) == 2


def test_existing_outputs_are_replaced_only_when_asked(split_coco, coco_file, tmp_path):
    ann_file, _ = coco_file
    out_dir = tmp_path / 'out'
    argv = ['--ann-file', ann_file, '--out-dir', str(out_dir), '--folds', '2']
    split_coco.main([*argv, '--percents', '10'])
    written = {name: (out_dir / name).read_bytes() for name in file_names(out_dir)}
    (out_dir / 'instances_train2017.2@10.json').write_text('someone else')
    # 5 % would be new, 10 % exists: refused before anything is written
    with pytest.raises(
        FileExistsError, match=r'4 of the 8 split files exist.*--overwrite'
    ):
        split_coco.main([*argv, '--percents', '5', '10', '--seed', '7'])
    assert file_names(out_dir) == sorted(written)
    assert (out_dir / 'instances_train2017.2@10.json').read_text() == 'someone else'
    split_coco.main([*argv, '--percents', '10', '--overwrite'])
    assert {n: (out_dir / n).read_bytes() for n in file_names(out_dir)} == written
    # an output that is the input (here through a link), even with --overwrite
    os.remove(out_dir / 'instances_train2017.1@10.json')
    os.symlink(ann_file, str(out_dir / 'instances_train2017.1@10.json'))
    with pytest.raises(FileExistsError, match='is the input'):
        split_coco.main([*argv, '--percents', '10', '--overwrite'])


@pytest.mark.parametrize('umask, mode', [(0o022, 0o644), (0o002, 0o664)])
def test_files_get_the_umasks_mode(split_coco, coco_file, tmp_path, umask, mode):
    """0o666 minus the umask, as open() gives: the group can read the folds
    on a shared file system (a private temporary file would be 0o600)."""
    ann_file, _ = coco_file
    out_dir = tmp_path / 'out'
    previous = os.umask(umask)
    try:
        split_coco.main(
            [
                '--ann-file',
                ann_file,
                '--out-dir',
                str(out_dir),
                '--percents',
                '10',
                '--folds',
                '1',
            ]
        )
    finally:
        os.umask(previous)
    for name in file_names(out_dir):
        assert stat.S_IMODE(os.stat(out_dir / name).st_mode) == mode, name
