"""Pictures of a checkpoint's dense features beside a random initialisation.

For every image and every selected level two PNG figures are written:

* ``{image}_{level}_pca.png``: the image, then the PCA colours of the feature
  map of each model (:func:`~.feature_maps.pca_rgb`), upsampled smoothly
  (bicubic) to the image;
* ``{image}_{level}_sim.png``: per model a row, per query point a panel: the
  cosine similarity of every cell to the cell holding the point, over the
  image, with the point marked; one colour scale for all panels, its bar on
  the right.

The random initialisation is the same config built under ``seed`` without a
checkpoint, so that what pre-training learned can be told from what the
architecture gives for free.
"""

import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from mmpixpro.apis import (
    dense_features,
    init_model,
    load_image,
    preprocess,
    selected_levels,
)
from mmpixpro.utils.config_resolver import resolve_config

from .feature_maps import (
    Point,
    default_points,
    feature_cell,
    pca_panels,
    similarity_panels,
)
from .figure import save_grid


def draw_dense_features(
    config: str,
    checkpoint: str,
    images: Sequence[str],
    out_dir: str,
    size: Sequence[int] = (224,),
    points: Optional[Sequence[Point]] = None,
    levels: Optional[Sequence[str]] = None,
    seed: int = 0,
    device: str = 'cpu',
    backend: str = 'auto',
    log: Optional[Callable[[str], None]] = None,
) -> List[str]:
    """Write the PCA and similarity figures of ``images``.

    Args:
        config: Pre-training config.
        checkpoint: Checkpoint of that config.
        images: Image paths.
        out_dir: Where the PNGs go (created).
        size: ``[S]`` shorter side (aspect kept, sides multiples of 32) or
            ``[H, W]`` (see :func:`~mmpixpro.apis.resize_shape`).
        points: Query points ``(x, y)`` in the resized images; None: three on
            each image's diagonal.
        levels: Levels to draw; None: the config's ``out_levels``.
        seed: Seed of the random initialisation.
        device: Torch device.
        backend: How figures are drawn (see :func:`~.figure.save_grid`).
        log: Called with a progress line per image and file; None: silent.

    Returns:
        The written PNG paths.

    Raises:
        FileNotFoundError: A missing config, checkpoint or image.
        ValueError: An unknown level, a point outside an image, a checkpoint
            that does not fit the config.
    """
    config = resolve_config(config)
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint!r} not found')
    missing = [p for p in images if not osp.isfile(p)]
    if missing:
        raise FileNotFoundError(f'image(s) not found: {missing}')
    pixels = [load_image(path, size) for path in images]
    queries = []
    for path, img in zip(images, pixels):
        chosen = points or default_points(img.shape[:2])
        for point in chosen:  # a clear error before the models are built
            try:
                feature_cell(point, img.shape[:2], (1, 1))
            except ValueError as e:
                raise ValueError(f'{path}: {e} (after resizing)') from None
        queries.append(chosen)

    trained = init_model(config, checkpoint, levels, seed, device)
    levels = selected_levels(trained)
    models = {
        osp.basename(checkpoint): trained,
        'random init': init_model(config, None, levels, seed, device),
    }
    os.makedirs(out_dir, exist_ok=True)
    stems: Dict[str, int] = {}
    written: List[str] = []
    for n, (path, img, chosen) in enumerate(zip(images, pixels, queries), 1):
        feats = {
            name: dense_features(model, preprocess(model, [img]))
            for name, model in models.items()
        }
        stem = osp.splitext(osp.basename(path))[0]
        stems[stem] = stems.get(stem, 0) + 1
        if stems[stem] > 1:  # two inputs of one name: keep both
            stem = f'{stem}-{stems[stem]}'
        rgb = img[..., ::-1].astype(np.float32) / 255
        files = []
        for level in levels:
            maps = {name: f[level][0] for name, f in feats.items()}
            shape = 'x'.join(str(v) for v in next(iter(maps.values())).shape)
            title = f'{osp.basename(path)}  {level} ({shape})'
            out = osp.join(out_dir, f'{stem}_{level}')
            files.append(
                save_grid([pca_panels(rgb, maps)], out + '_pca.png', title, backend)
            )
            rows, vmin = similarity_panels(rgb, maps, chosen)
            title += f'  cosine similarity {vmin:.2f}..1 (jet, over the image)'
            files.append(
                save_grid(rows, out + '_sim.png', title, backend, scale=(vmin, 1.0))
            )
        if log is not None:
            height, width = img.shape[:2]
            log(f'[{n}/{len(images)}] {path} ({width}x{height}): {", ".join(levels)}')
            for f in files:
                log(f'  wrote {f}')
        written += files
    return written
