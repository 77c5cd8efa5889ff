"""Test helpers: the scaffolding of :mod:`mmpixpro.testing` with the bundled
photos as the default data, and loading a script of tools/ by its path."""

import functools
import os.path as osp

from conftest import DEMO_CONFIG as DEMO_CONFIG_PATH  # noqa: F401
from conftest import PHOTOS, REPO

from mmpixpro import testing
from mmpixpro.testing import checkpoint_path  # noqa: F401
from mmpixpro.testing import walk_dicts as walk  # noqa: F401

tiny_config = functools.partial(testing.tiny_config, data_root=PHOTOS)
pretrain = functools.partial(testing.pretrain, data_root=PHOTOS)


def load_tool(relpath: str):
    """Import a script of tools/ (not a package) by its path in the repo."""
    import importlib.util

    name = osp.splitext(osp.basename(relpath))[0]
    spec = importlib.util.spec_from_file_location(
        f'tool_{name}', osp.join(REPO, relpath)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class PayloadOnLoad:
    """Unpickling calls ``open(marker, 'w')``: the file exists iff it ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, 'w'))


LABEL, HEAD = 20, 26  # figures: pixels above each panel / for the title


def read_png(path: str):
    """A written picture, BGR."""
    import cv2

    img = cv2.imread(path, cv2.IMREAD_COLOR)
    assert img is not None, path
    return img


def panel(img, row: int, col: int, height: int, width: int):
    """Pixels of one panel of a figure (a margin for anti-aliasing)."""
    top = HEAD + row * (LABEL + height) + LABEL
    return img[top + 2 : top + height - 2, col * width + 2 : (col + 1) * width - 2]
