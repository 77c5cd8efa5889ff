"""Two-view augmentation with boxes (the configs' pipeline) against the same
recipe written with PIL + torchvision, images / s on one process and one
thread, decoding every image each time; decoding alone beside it (which
bounds the ratio any pipeline can reach)."""

import os
import os.path as osp
import tempfile
import time

import numpy as np
import torch

from .models import STEP_CONFIGS, config_in
from .options import REPO


def pil_pipeline_fn():
    """The same two-view recipe with PIL + torchvision, boxes recorded."""
    import random

    from PIL import Image, ImageFilter, ImageOps
    from torchvision import transforms as T
    from torchvision.transforms import functional as TF

    jitter = T.ColorJitter(0.4, 0.4, 0.2, 0.1)

    def view(img, blur_p, solarize_p):
        w, h = img.size
        top, left, ch, cw = T.RandomResizedCrop.get_params(
            img, (0.08, 1.0), (3 / 4, 4 / 3)
        )
        out = TF.resized_crop(
            img, top, left, ch, cw, [224, 224], T.InterpolationMode.BILINEAR
        )
        box = [
            left / (w - 1),
            top / (h - 1),
            (left + cw - 1) / (w - 1),
            (top + ch - 1) / (h - 1),
        ]
        if random.random() < 0.5:
            out = TF.hflip(out)
            box[0], box[2] = box[2], box[0]
        if random.random() < 0.8:
            out = jitter(out)
        if random.random() < 0.2:
            out = TF.to_grayscale(out, num_output_channels=3)
        if random.random() < blur_p:
            out = out.filter(ImageFilter.GaussianBlur(radius=random.uniform(0.1, 2.0)))
        if random.random() < solarize_p:
            out = ImageOps.solarize(out, 128)
        return TF.pil_to_tensor(out), torch.tensor(box)

    def run(path):
        img = Image.open(path).convert('RGB')
        return [view(img, 1.0, 0.0), view(img, 0.1, 0.2)]

    return run


def our_pipeline_fn():
    from mmcv.transforms import Compose
    from mmengine.config import Config

    from mmpixpro.utils import register_all_modules

    register_all_modules()
    cfg = Config.fromfile(config_in(REPO, STEP_CONFIGS['C5']))
    pipeline = Compose(cfg.train_dataloader.dataset.pipeline)
    return lambda path: pipeline(dict(img_path=path))


def pil_decode(path):
    from PIL import Image

    return Image.open(path).convert('RGB')


def our_decode(path):
    from mmpixpro.datasets.transforms import decode_bgr

    with open(path, 'rb') as f:
        return decode_bgr(f.read())


def photo_sets(photos_dir, tmp_dir):
    """The photos as they are, and JPEG copies of them (quality 90: ImageNet
    and COCO store JPEG)."""
    from PIL import Image

    photos = sorted(
        osp.join(photos_dir, f)
        for f in os.listdir(photos_dir)
        if f.lower().endswith(('.png', '.jpg', '.jpeg'))
    )
    if not photos:
        raise FileNotFoundError(f'no .png / .jpg photos in {photos_dir}')
    copies = []
    for path in photos:
        copy = osp.join(tmp_dir, osp.splitext(osp.basename(path))[0] + '.jpg')
        Image.open(path).convert('RGB').save(copy, quality=90)
        copies.append(copy)
    return [('', photos), (', JPEG q90 copies', copies)]


def images_per_second(fns, paths, images):
    """Each function on each photo in turn (load drifts hit all alike)."""
    import cv2

    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # one process, one thread: a dataloader worker
    np.random.seed(0)
    for fn in fns:
        fn(paths[0])  # warm-up
    totals = [0.0] * len(fns)
    for index in range(images):
        for k, fn in enumerate(fns):
            start = time.perf_counter()
            fn(paths[index % len(paths)])
            totals[k] += time.perf_counter() - start
    cv2.setNumThreads(threads)
    return [images / total for total in totals]


def measure_pipelines(options, tmp_dir):
    """Rows (name, PIL + torchvision img/s, ours img/s): pipelines, decoding."""
    pipelines = [pil_pipeline_fn(), our_pipeline_fn()]
    rows = []
    for suffix, paths in photo_sets(options.photos, tmp_dir):
        pil, ours = images_per_second(pipelines, paths, options.pipeline_images)
        rows.append((f'two-view pipeline{suffix}', pil, ours))
        pil, ours = images_per_second(
            [pil_decode, our_decode], paths, options.pipeline_images
        )
        rows.append((f'decoding alone{suffix}', pil, ours))
    return rows


def pipeline_rows(options, log):
    """:func:`measure_pipelines` as table rows (passed to ``log``) and report
    entries per row and ``'pipeline ratio ceiling'``."""
    with tempfile.TemporaryDirectory() as tmp:
        rows = measure_pipelines(options, tmp)
    lines, report = [], {}
    for name, pil_ips, our_ips in rows:
        target = '>= 3' if name == 'two-view pipeline' else ''
        lines.append(
            f'| {name} (img/s, 1 process, 1 thread) | {pil_ips:.1f} | '
            f'{our_ips:.1f} | {our_ips / pil_ips:.2f} | {target} |'
        )
        report[name] = dict(pil=pil_ips, ours=our_ips, ratio=our_ips / pil_ips)
        log(lines[-1])
    # Decoding every image bounds any pipeline: even with free augmentation
    # ours could not beat (our decoding rate) / (PIL pipeline rate).
    ceiling = report['decoding alone']['ours'] / report['two-view pipeline']['pil']
    report['pipeline ratio ceiling'] = ceiling
    return lines, report
