"""Use a trained PixPro model: build it from a config and a checkpoint,
extract dense features of chosen levels, and run the demo's steps."""

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
