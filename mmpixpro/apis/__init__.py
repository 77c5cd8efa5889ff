"""Use a trained PixPro model: build it from a config and a checkpoint and
extract dense features of chosen levels.

The lowest user-facing layer: :mod:`mmpixpro.visualization` and
:mod:`mmpixpro.analysis` build on it, it imports neither (the demo's story,
which uses all three, is ``tools/demo.py``'s)."""

from .features import dense_features, load_image, preprocess, resize_shape
from .model import init_model, load_dense_weights, selected_levels

__all__ = [
    'dense_features',
    'init_model',
    'load_dense_weights',
    'load_image',
    'preprocess',
    'resize_shape',
    'selected_levels',
]
