"""Look at the dense features of a PixPro model: PCA colours and similarities.

For every image and every selected output level (the backbone output of a C5
config, the FPN levels of an FPN config; the dense path before the
projector: backbone -> [neck] -> level), two PNG figures are written:

* ``{image}_{level}_pca.png``: the image, then the first three principal
  components of the feature map (PCA fitted per image and level, each
  component min-max normalised) shown as RGB and upsampled to the image.
* ``{image}_{level}_sim.png``: for each query point (``--points``, pixel
  coordinates ``x,y`` in the resized image; three points on the diagonal by
  default), the cosine similarity of every feature cell to the cell holding
  the point, drawn over the image with the point marked.

Each figure shows the checkpoint beside the same config randomly
initialised (``init_weights()`` under ``--seed``, no checkpoint), so that
what pre-training learned can be told from what the architecture gives for
free. The FCOS head towers of a ``*_fpn_head`` config are not applied.

Images are resized (``--size S``: shorter side ``S``, aspect kept, both
sides rounded to a multiple of 32; ``--size H W``: exactly) and normalised
with the config's data preprocessor (BGR -> RGB, mean / std).

Examples::

    python tools/analysis/visualize_dense_features.py \\
        configs/selfsup/pixpro_r18_c5_1xb4-coslr-40e_demo.py \\
        work_dirs/demo/epoch_40.pth demo/photos/*.jpg --out-dir work_dirs/vis
    python tools/analysis/visualize_dense_features.py CONFIG CKPT img.png \\
        --size 256 320 --points 40,60 200,100 --levels P3 P5
"""

from __future__ import annotations

import argparse
import logging
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

SIZE_DIVISOR = 32  # the stride of C5: sides that are multiples keep cells aligned
Point = Tuple[float, float]


# ---------------------------------------------------------------- the model
def build_model(
    config: str,
    checkpoint: Optional[str] = None,
    seed: int = 0,
    device: str = 'cpu',
    cfg_options: Optional[dict] = None,
) -> nn.Module:
    """Build the PixPro model of ``config``, in eval mode on ``device``.

    The model is built and initialised (``init_weights()``) after seeding
    torch with ``seed``, so the random initialisation is reproducible; then,
    with ``checkpoint``, its ``backbone.*`` and ``neck.*`` tensors are loaded.

    Args:
        config: Path of a pre-training config.
        checkpoint: Path of a checkpoint of that config; None keeps the random
            initialisation.
        seed: Seed of the random initialisation.
        device: Torch device.
        cfg_options: Overrides merged into the config (``merge_from_dict``).

    Returns:
        The model (``mmpixpro.models.PixPro``), in eval mode.

    Raises:
        FileNotFoundError: The config or the checkpoint does not exist.
        ValueError: The checkpoint does not fit the config.
    """
    if not osp.isfile(config):
        raise FileNotFoundError(f'config {config!r} not found')
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint!r} not found')
    from mmengine.config import Config
    from mmengine.logging import MMLogger

    from mmpixpro.registry import MODELS
    from mmpixpro.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    # init_weights() logs one record per tensor (and a registry-scope
    # warning) to mmengine's logger: keep the console for the tool's output.
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    if checkpoint is not None:
        load_dense_weights(model, checkpoint)
    return model.to(device).eval()


def dense_modules(model: nn.Module) -> List[str]:
    """Names of the modules on the dense path: ``backbone`` [, ``neck``]."""
    return ['backbone', 'neck'] if getattr(model, 'with_neck', False) else ['backbone']


def load_dense_weights(model: nn.Module, checkpoint: str) -> int:
    """Load the backbone (and neck) tensors of ``checkpoint`` into ``model``.

    Args:
        model: A model built from the checkpoint's config.
        checkpoint: Path of an mmengine checkpoint (or a flat state dict).

    Returns:
        The number of tensors loaded.

    Raises:
        ValueError: A backbone / neck tensor of the model is missing from the
            checkpoint or has another shape (the checkpoint is not of this
            config).
    """
    from mmpixpro.benchmarks.transfer import load_state_dict_file

    try:
        state = load_state_dict_file(checkpoint)
    except FileNotFoundError:
        raise
    except Exception as e:  # not a checkpoint, or not a safe one
        raise ValueError(str(e)) from e
    own = model.state_dict()
    wanted = [
        k for k in own if any(k.startswith(m + '.') for m in dense_modules(model))
    ]
    missing = [k for k in wanted if k not in state]
    if missing:
        raise ValueError(
            f'checkpoint {checkpoint!r} lacks {len(missing)} of the '
            f'{len(wanted)} {"/".join(dense_modules(model))} tensors of the '
            f'config (e.g. {missing[0]!r}); is it a checkpoint of this config?'
        )
    wrong = [k for k in wanted if state[k].shape != own[k].shape]
    if wrong:
        k = wrong[0]
        raise ValueError(
            f'checkpoint {checkpoint!r} does not fit the config: {k} has shape '
            f'{tuple(state[k].shape)}, the model {tuple(own[k].shape)}'
        )
    model.load_state_dict({k: state[k] for k in wanted}, strict=False)
    return len(wanted)


def available_levels(model: nn.Module) -> List[str]:
    """Every dense output level of ``model`` (``['C5']``, ``['P3', ...]``)."""
    return list(model.level_names)


def default_levels(model: nn.Module) -> List[str]:
    """The levels ``model`` trains with the pixel loss (its ``out_levels``)."""
    return [model.level_names[i] for i in model.out_indices]


def check_levels(model: nn.Module, levels: Optional[Sequence[str]]) -> List[str]:
    """Validate level names; None gives :func:`default_levels`.

    Raises:
        ValueError: A name the model does not output.
    """
    if not levels:
        return default_levels(model)
    names = available_levels(model)
    unknown = [lv for lv in levels if lv not in names]
    if unknown:
        raise ValueError(f'unknown level(s) {unknown}: this model outputs {names}')
    return list(dict.fromkeys(levels))  # each once, in the given order


def preprocess(model: nn.Module, images: Sequence[np.ndarray]) -> Tensor:
    """Normalise BGR ``uint8`` images (all of one size) as the model expects.

    Args:
        model: The model; its ``data_preprocessor`` gives ``mean``, ``std``
            and whether to convert BGR to RGB.
        images: ``[H, W, 3]`` BGR arrays (as ``cv2.imread`` reads them).

    Returns:
        ``[N, 3, H, W]`` float tensor on the model's device.
    """
    batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float()
    prep = model.data_preprocessor
    if getattr(prep, '_channel_conversion', True):
        batch = batch[:, [2, 1, 0]]
    device = next(model.parameters()).device
    batch = batch.to(device)
    mean = getattr(prep, 'mean', None)
    std = getattr(prep, 'std', None)
    if mean is not None and std is not None:
        batch = (batch - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)
    return batch


@torch.no_grad()
def extract_features(
    model: nn.Module, inputs: Tensor, levels: Sequence[str]
) -> Dict[str, Tensor]:
    """Dense features of ``levels``: backbone -> [neck] -> level.

    Args:
        model: A PixPro model (eval mode for inference statistics).
        inputs: Normalised images ``[N, 3, H, W]`` (see :func:`preprocess`).
        levels: Level names of :func:`available_levels`.

    Returns:
        Level name -> ``[N, C, h, w]`` features.
    """
    names = available_levels(model)
    feats = model.backbone(inputs)
    feats = (feats,) if isinstance(feats, Tensor) else tuple(feats)
    if getattr(model, 'with_neck', False):
        feats = tuple(model.neck(feats))
    return {lv: feats[names.index(lv)] for lv in levels}


# --------------------------------------------------------------- the maps
def pca_rgb(feat: Tensor, num_components: int = 3) -> np.ndarray:
    """Project a feature map onto its first principal components.

    The PCA is fitted on the map's own cells (SVD of the centred
    ``[h * w, C]`` matrix); each component is min-max normalised to [0, 1]
    and its sign fixed (largest loading positive), so the result does not
    depend on the SVD's sign choice. Missing components (fewer cells or
    channels than ``num_components``) and constant ones are 0.

    Args:
        feat: ``[C, h, w]`` features.
        num_components: Output channels.

    Returns:
        ``[h, w, num_components]`` float32 array in [0, 1].
    """
    c, h, w = feat.shape
    x = feat.detach().float().cpu().reshape(c, h * w).t()
    x = x - x.mean(dim=0, keepdim=True)
    out = torch.zeros(h * w, num_components)
    if h * w > 1:
        _, _, vh = torch.linalg.svd(x, full_matrices=False)
        k = min(num_components, vh.shape[0])
        comps = vh[:k]  # [k, C]
        signs = torch.sign(comps.gather(1, comps.abs().argmax(1, keepdim=True)))
        proj = x @ (comps * signs).t()  # [h * w, k]
        low, high = proj.min(0).values, proj.max(0).values
        span = high - low
        varies = span > 1e-6 * span.max().clamp_min(1e-12)  # else constant: 0
        out[:, :k] = torch.where(varies, (proj - low) / span.clamp_min(1e-12), 0.0)
    return out.reshape(h, w, num_components).clamp(0, 1).numpy()


def feature_cell(
    point: Point, image_size: Tuple[int, int], feat_size: Tuple[int, int]
) -> Tuple[int, int]:
    """The feature cell ``(row, col)`` that holds pixel ``point = (x, y)``.

    Args:
        point: ``(x, y)`` pixel coordinates in the (resized) image.
        image_size: ``(H, W)`` of the image.
        feat_size: ``(h, w)`` of the feature map.

    Raises:
        ValueError: The point is outside the image.
    """
    x, y = point
    height, width = image_size
    if not (0 <= x < width and 0 <= y < height):
        raise ValueError(f'point ({x:g}, {y:g}) is outside the {width}x{height} image')
    h, w = feat_size
    return min(int(y * h / height), h - 1), min(int(x * w / width), w - 1)


def similarity_map(
    feat: Tensor, point: Point, image_size: Tuple[int, int]
) -> np.ndarray:
    """Cosine similarity of every cell to the cell holding ``point``.

    Args:
        feat: ``[C, h, w]`` features.
        point: ``(x, y)`` in the image of ``image_size``.
        image_size: ``(H, W)`` of the image the features were computed from.

    Returns:
        ``[h, w]`` float32 array in [-1, 1]; 1 at the query cell (unless its
        feature vector is zero, then all 0).
    """
    feat = feat.detach().float().cpu()
    row, col = feature_cell(point, image_size, tuple(feat.shape[1:]))
    unit = F.normalize(feat, dim=0)
    sim = (unit * unit[:, row, col, None, None]).sum(0)
    return sim.clamp(-1, 1).numpy()


def upsample(
    array: np.ndarray, size: Tuple[int, int], nearest: bool = False
) -> np.ndarray:
    """Resize an ``[h, w]`` or ``[h, w, k]`` float map to ``size = (H, W)``."""
    interp = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    out = cv2.resize(
        np.ascontiguousarray(array, dtype=np.float32), size[::-1], interpolation=interp
    )
    return out.reshape(size + array.shape[2:])


def default_points(image_size: Tuple[int, int], num: int = 3) -> List[Point]:
    """``num`` query points on the image diagonal, evenly spaced inside it."""
    height, width = image_size
    return [
        (round(width * (i + 1) / (num + 1)), round(height * (i + 1) / (num + 1)))
        for i in range(num)
    ]


# ---------------------------------------------------------------- images
def resize_shape(
    height: int, width: int, size: Sequence[int], divisor: int = SIZE_DIVISOR
) -> Tuple[int, int]:
    """``(H, W)`` after resizing: ``[S]`` shorter side, ``[H, W]`` exactly.

    With one value the aspect ratio is kept and both sides are rounded to a
    multiple of ``divisor`` (at least ``divisor``).
    """
    if len(size) == 2:
        return int(size[0]), int(size[1])
    if len(size) != 1 or size[0] <= 0:
        raise ValueError(f'--size takes S or H W (positive), got {list(size)}')
    scale = size[0] / min(height, width)

    def snap(v: float) -> int:
        return max(divisor, int(round(v * scale / divisor)) * divisor)

    return snap(height), snap(width)


def load_image(path: str, size: Sequence[int]) -> np.ndarray:
    """Read ``path`` (BGR) and resize it (see :func:`resize_shape`).

    Raises:
        FileNotFoundError: No such file, or not an image cv2 can read.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'image {path!r} not found')
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f'{path!r} is not an image cv2 can read')
    height, width = resize_shape(*img.shape[:2], size)
    if (height, width) != img.shape[:2]:
        img = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)
    return img


def heat_colours(values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """``[H, W]`` values -> ``[H, W, 3]`` RGB floats (jet colour map)."""
    scaled = np.clip((values - vmin) / max(vmax - vmin, 1e-12), 0, 1)
    bgr = cv2.applyColorMap((scaled * 255).astype(np.uint8), cv2.COLORMAP_JET)
    return bgr[..., ::-1].astype(np.float32) / 255


def overlay(rgb: np.ndarray, heat: np.ndarray, alpha: float = 0.55) -> np.ndarray:
    """Blend an RGB image (floats in [0, 1]) with a heat map's colours."""
    return np.clip((1 - alpha) * rgb + alpha * heat, 0, 1)


def mark(rgb: np.ndarray, point: Point) -> np.ndarray:
    """Draw the query point: a white-rimmed black cross."""
    out = np.ascontiguousarray((rgb * 255).astype(np.uint8))
    centre = (int(round(point[0])), int(round(point[1])))
    arm = max(4, min(out.shape[:2]) // 25)
    cv2.drawMarker(out, centre, (255, 255, 255), cv2.MARKER_CROSS, 2 * arm + 4, 4)
    cv2.drawMarker(out, centre, (0, 0, 0), cv2.MARKER_CROSS, 2 * arm, 2)
    return out.astype(np.float32) / 255


# ------------------------------------------------------------- the figures
def _matplotlib():
    try:
        import matplotlib

        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def save_grid(
    panels: Sequence[Sequence[Tuple[str, np.ndarray]]],
    path: str,
    title: str = '',
    backend: str = 'auto',
) -> str:
    """Write a grid of titled RGB panels (rows of ``(title, [H, W, 3])``).

    Each panel is drawn at its own pixel size, so the figure's size follows
    the image size.

    Args:
        panels: Rows of panels; floats in [0, 1], all of one size.
        path: Output PNG.
        title: Figure title.
        backend: ``'matplotlib'``, ``'cv2'`` or ``'auto'`` (matplotlib when
            importable).

    Returns:
        ``path``.
    """
    plt = _matplotlib() if backend in ('auto', 'matplotlib') else None
    if backend == 'matplotlib' and plt is None:
        raise ImportError('matplotlib is not installed')
    rows, cols = len(panels), max(len(r) for r in panels)
    height, width = panels[0][0][1].shape[:2]
    label, head = 20, 26 if title else 0  # pixels above each panel / on top
    if plt is not None:
        dpi = 100
        fig_w, fig_h = cols * width, head + rows * (label + height)
        fig = plt.figure(figsize=(fig_w / dpi, fig_h / dpi), dpi=dpi)
        for r, row in enumerate(panels):
            bottom = fig_h - head - (r + 1) * (label + height)
            for c, (name, img) in enumerate(row):
                ax = fig.add_axes(
                    (c * width / fig_w, bottom / fig_h, width / fig_w, height / fig_h)
                )
                ax.imshow(np.clip(img, 0, 1), interpolation='nearest', aspect='auto')
                ax.set_title(name, fontsize=8, pad=3)
                ax.axis('off')
        if title:
            fig.text(0.5, 1 - 4 / fig_h, title, ha='center', va='top', fontsize=9)
        fig.savefig(path, dpi=dpi)
        plt.close(fig)
        return path
    # cv2: label strips above the panels, a title strip on top.
    canvas = np.full((head + rows * (label + height), cols * width, 3), 255, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    if title:
        cv2.putText(canvas, title, (4, head - 8), font, 0.4, (0, 0, 0), 1)
    top = head
    for row in panels:
        for c, (name, img) in enumerate(row):
            x = c * width
            cv2.putText(canvas, name, (x + 4, top + label - 6), font, 0.4, (0, 0, 0))
            canvas[top + label : top + label + height, x : x + width] = (
                np.clip(img, 0, 1) * 255
            ).astype(np.uint8)
        top += label + height
    cv2.imwrite(path, canvas[..., ::-1])
    return path


def pca_panels(
    rgb: np.ndarray, maps: Dict[str, Tensor]
) -> List[Tuple[str, np.ndarray]]:
    """The image, then the PCA colours of each model's ``[C, h, w]`` map.

    Args:
        rgb: ``[H, W, 3]`` image, floats in [0, 1].
        maps: Model name -> features of the image.

    Returns:
        Titled ``[H, W, 3]`` panels.
    """
    size = rgb.shape[:2]
    return [('image', rgb)] + [
        (f'PCA {name}', upsample(pca_rgb(feat), size)) for name, feat in maps.items()
    ]


def similarity_panels(
    rgb: np.ndarray, maps: Dict[str, Tensor], points: Sequence[Point]
) -> Tuple[List[List[Tuple[str, np.ndarray]]], float]:
    """One row per model, one similarity overlay per query point.

    All panels share one colour scale, ``[vmin, 1]`` with ``vmin`` the
    lowest similarity shown (0 when none is negative).

    Args:
        rgb: ``[H, W, 3]`` image, floats in [0, 1].
        maps: Model name -> features of the image.
        points: ``(x, y)`` query points in the image.

    Returns:
        The rows of titled panels, and ``vmin``.
    """
    size = rgb.shape[:2]
    sims = {
        name: [similarity_map(feat, p, size) for p in points]
        for name, feat in maps.items()
    }
    vmin = min(0.0, min(float(s.min()) for v in sims.values() for s in v))
    rows = [
        [
            (
                f'{name} ({p[0]:g},{p[1]:g})',
                mark(overlay(rgb, heat_colours(upsample(s, size), vmin, 1)), p),
            )
            for p, s in zip(points, row)
        ]
        for name, row in sims.items()
    ]
    return rows, vmin


# ------------------------------------------------------------------- main
def parse_point(text: str) -> Point:
    """``'x,y'`` -> ``(x, y)``."""
    try:
        x, y = (float(v) for v in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(f'a point is x,y (pixels), got {text!r}')
    return x, y


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n\n', 1)[1],
    )
    parser.add_argument('config', help='pre-training config')
    parser.add_argument('checkpoint', help='checkpoint of that config')
    parser.add_argument('images', nargs='+', metavar='IMAGE', help='input images')
    parser.add_argument(
        '--out-dir', default='work_dirs/dense_features', help='where PNGs go'
    )
    parser.add_argument(
        '--size',
        type=int,
        nargs='+',
        default=[224],
        metavar='N',
        help='S (shorter side, aspect kept, multiple of 32) or H W; default 224',
    )
    parser.add_argument(
        '--points',
        type=parse_point,
        nargs='+',
        metavar='X,Y',
        help='query points (pixels of the resized image); default: 3 on the diagonal',
    )
    parser.add_argument(
        '--levels',
        nargs='+',
        metavar='LEVEL',
        help="levels, e.g. C5 or P3 P4; default: the config's out_levels",
    )
    parser.add_argument('--seed', type=int, default=0, help='of the random init')
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    parser.add_argument(
        '--backend',
        choices=['auto', 'matplotlib', 'cv2'],
        default='auto',
        help='how figures are drawn (auto: matplotlib when importable)',
    )
    args = parser.parse_args(argv)
    if len(args.size) not in (1, 2) or min(args.size) <= 0:
        parser.error(f'--size takes S or H W (positive), got {args.size}')
    return args


def main(argv: Optional[Sequence[str]] = None) -> List[str]:
    """Run the tool; returns the written PNG paths.

    Raises:
        FileNotFoundError: A missing config, checkpoint or image.
        ValueError: An unknown level, a point outside an image, a checkpoint
            that does not fit the config.
    """
    args = parse_args(argv)
    for kind, path in [('config', args.config), ('checkpoint', args.checkpoint)]:
        if not osp.isfile(path):
            raise FileNotFoundError(f'{kind} {path!r} not found')
    missing = [p for p in args.images if not osp.isfile(p)]
    if missing:
        raise FileNotFoundError(f'image(s) not found: {missing}')
    images = [load_image(path, args.size) for path in args.images]
    queries = []
    for path, img in zip(args.images, images):
        points = args.points or default_points(img.shape[:2])
        for point in points:  # a clear error before the models are built
            try:
                feature_cell(point, img.shape[:2], (1, 1))
            except ValueError as e:
                raise ValueError(f'{path}: {e} (after resizing)') from None
        queries.append(points)

    trained = build_model(args.config, args.checkpoint, args.seed, args.device)
    levels = check_levels(trained, args.levels)
    models = {
        osp.basename(args.checkpoint): trained,
        'random init': build_model(args.config, None, args.seed, args.device),
    }
    os.makedirs(args.out_dir, exist_ok=True)
    stems: Dict[str, int] = {}
    written: List[str] = []
    for n, (path, img, points) in enumerate(zip(args.images, images, queries), 1):
        size = img.shape[:2]
        feats = {
            name: extract_features(model, preprocess(model, [img]), levels)
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
            out = osp.join(args.out_dir, f'{stem}_{level}')
            files.append(
                save_grid(
                    [pca_panels(rgb, maps)], out + '_pca.png', title, args.backend
                )
            )
            rows, vmin = similarity_panels(rgb, maps, points)
            title += f'  cosine similarity, colours {vmin:.2f}..1 (jet)'
            files.append(save_grid(rows, out + '_sim.png', title, args.backend))
        print(
            f'[{n}/{len(args.images)}] {path} ({size[1]}x{size[0]}): '
            f'{", ".join(levels)}',
            flush=True,
        )
        for f in files:
            print(f'  wrote {f}', flush=True)
        written += files
    return written


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
