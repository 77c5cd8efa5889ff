"""Speed and memory of PixPro, as ratios measured in one run.

    python tools/analysis/benchmark.py [--batch 4] [--size 224] [--steps 5]
        [--depth 50] [--device cpu|cuda] [--threads 2] [--skip-memory]
        [--channels-last] [--compare-channels-last] [--amp] [--compare-amp]
        [--photos DIR]
        [--pipeline-images 120] [--json F]

1. Training step of PixPro against the plain two-view step (same backbone,
   projector, momentum target; a pooled cosine loss instead of the pixel
   head: the instance-level counterpart), for C5 and for FPN + head (P3-P6).
2. Two-view augmentation with boxes (the config's pipeline) against the same
   recipe written with PIL + torchvision, images / s on one process and one
   thread, decoding every image each time: on the bundled photos (or
   ``--photos``), on JPEG copies of them, and decoding alone (which bounds
   the ratio any pipeline can reach).
3. Peak memory of the PixPro part alone (pair rule, PPM, loss, forward and
   backward) at P3 of 448 px inputs, batch 16: dense against the
   memory-bounded default, and the largest difference of their losses and
   gradients.

Medians over ``--steps`` steps after two warm-up steps; images / s are
reported. ``--amp`` (default on a GPU) runs the steps under fp16 autocast on
a GPU and bf16 autocast on CPU.
"""

import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SELFSUP = osp.join(REPO, 'configs', 'selfsup')
PHOTOS = osp.join(REPO, 'demo', 'photos')


class PooledCosineHead(torch.nn.Module):
    """The instance-level counterpart: -2 cos of pooled features, both ways."""

    def loss(self, online1, online2, target1, target2, coords1, coords2):
        def cos(a, b):
            return F.cosine_similarity(a.mean(dim=(2, 3)), b.mean(dim=(2, 3))).mean()

        terms = [
            -2 * (cos(o1, t2) + cos(o2, t1))
            for o1, o2, t1, t2 in zip(online1, online2, target1, target2)
        ]
        return dict(loss=torch.stack(terms).mean())


def build_model(config, depth, channels_last=None):
    from mmengine.config import Config
    from mmengine.logging import MMLogger

    from mmpixpro.registry import MODELS

    cfg = Config.fromfile(config)

    def to_bn(node):
        if isinstance(node, dict):
            if (
                isinstance(node.get('norm_cfg'), dict)
                and node['norm_cfg'].get('type') == 'SyncBN'
            ):
                node['norm_cfg'] = dict(node['norm_cfg'], type='BN')
            for v in node.values():
                to_bn(v)
        elif isinstance(node, list):
            for v in node:
                to_bn(v)

    to_bn(cfg._cfg_dict)
    if depth != 50:
        scale = 4 if depth < 50 else 1
        cfg.model.backbone.depth = depth
        if cfg.model.get('neck'):
            cfg.model.neck.in_channels = [
                c // scale for c in cfg.model.neck.in_channels
            ]
        else:
            cfg.model.projector.in_channels //= scale
    if channels_last is not None:  # None: the config's memory format
        cfg.model.channels_last = channels_last
    model = MODELS.build(cfg.model)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')  # init_weights logs every parameter at INFO
    model.init_weights()
    logger.setLevel(level)
    return model


def fake_batch(batch, size, device):
    from mmpretrain.structures import DataSample

    torch.manual_seed(0)
    imgs = [torch.randn(batch, 3, size, size, device=device) for _ in range(2)]
    samples = []
    for _ in range(batch):
        xy = torch.rand(2, 2) * 0.4
        ds = DataSample()
        ds.set_field(torch.cat([xy, xy + 0.5], dim=1), 'coords')
        samples.append(ds)
    return imgs, samples


class Stepper:
    """One training step (forward, backward, SGD) of a model on a fixed batch."""

    def __init__(self, model, batch, size, device, amp):
        from mmengine.logging import MessageHub

        MessageHub.get_current_instance().update_info('max_iters', 1000)
        self.model = model.to(device).train()
        params = [p for p in model.parameters() if p.requires_grad]
        self.opt = torch.optim.SGD(params, lr=1e-3)
        self.imgs, self.samples = fake_batch(batch, size, device)
        self.device, self.amp = device, amp

    def __call__(self) -> float:
        if self.device == 'cuda':
            torch.cuda.synchronize()
        start = time.perf_counter()
        # fp16 on a GPU; bf16 on CPU (what tools/train.py --amp uses there)
        dtype = torch.float16 if self.device == 'cuda' else torch.bfloat16
        with torch.autocast(device_type=self.device, dtype=dtype, enabled=self.amp):
            losses = self.model.loss(self.imgs, self.samples)
            loss = sum(v for k, v in losses.items() if 'loss' in k)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        if self.device == 'cuda':
            torch.cuda.synchronize()
        return time.perf_counter() - start


def bench_steps(args):
    """Plain and PixPro steps interleaved, so that load changes hit both.

    ``--compare-channels-last`` / ``--compare-amp`` add PixPro with the same
    weights in the other memory format / precision to the interleaving.
    """
    rows = []
    for name, config in [
        ('C5', 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'),
        ('FPN + head, P3-P6', 'pixpro_r50_fpn_head.py'),
    ]:
        path = osp.join(SELFSUP, config)
        models = dict(
            plain=build_model(path, args.depth, args.channels_last),
            pixpro=build_model(path, args.depth, args.channels_last),
        )
        models['plain'].head = PooledCosineHead()
        fmt = models['pixpro'].channels_last
        amp = {key: args.amp for key in models}
        variants = {}  # PixPro with the same weights, one setting switched
        if args.compare_channels_last:
            variants['other format'] = (not fmt, args.amp)
        if args.compare_amp:
            variants['other precision'] = (fmt, not args.amp)
        for key, (channels_last, use_amp) in variants.items():
            models[key] = build_model(path, args.depth, channels_last)
            models[key].load_state_dict(models['pixpro'].state_dict())
            amp[key] = use_amp
        steppers = {
            key: Stepper(m, args.batch, args.size, args.device, amp[key])
            for key, m in models.items()
        }
        times = {key: [] for key in steppers}
        for i in range(args.steps + 2):  # two warm-up steps each
            for key, stepper in steppers.items():
                elapsed = stepper()
                if i >= 2:
                    times[key].append(elapsed)
        medians = {key: statistics.median(t) for key, t in times.items()}
        rows.append((name, medians, fmt))
        del models, steppers
    return rows


# --------------------------------------------------------------- pipelines
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
    cfg = Config.fromfile(osp.join(SELFSUP, 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'))
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
        raise SystemExit(f'no .png / .jpg photos in {photos_dir}')
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


def bench_pipelines(args, tmp_dir):
    """Rows (name, PIL + torchvision img/s, ours img/s): pipelines, decoding."""
    pipelines = [pil_pipeline_fn(), our_pipeline_fn()]
    rows = []
    for suffix, paths in photo_sets(args.photos, tmp_dir):
        pil, ours = images_per_second(pipelines, paths, args.pipeline_images)
        rows.append((f'two-view pipeline{suffix}', pil, ours))
        pil, ours = images_per_second(
            [pil_decode, our_decode], paths, args.pipeline_images
        )
        rows.append((f'decoding alone{suffix}', pil, ours))
    return rows


# ------------------------------------------------------------------ memory
MEMORY_CHILD = r"""
import json, sys, torch
from mmpixpro.models import PixelHead
mode, batch, side, device = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
torch.manual_seed(0)
shape = (batch, 256, side, side)
feats = [torch.randn(*shape, device=device, requires_grad=True) for _ in range(4)]
xy = torch.rand(batch, 2, 2) * 0.3
coords = torch.cat([xy, xy + 0.6], dim=-1).to(device)
limit = None if mode == 'dense' else 1 << 22  # PixelHead / PPM default
ppm = dict(type='PixelPropagationModule', in_channels=256, max_elements=limit)
head = PixelHead(ppm=ppm, max_elements=limit).to(device)
def rss(field):
    with open('/proc/self/status') as f:
        line = next(x for x in f if x.startswith(field))
    return int(line.split()[1]) * 1024
if device == 'cuda':
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
else:
    with open('/proc/self/clear_refs', 'w') as f:  # resets VmHWM to VmRSS
        f.write('5')
    base = rss('VmRSS')
o1, o2, t1, t2 = ([f] for f in feats)
out = head.loss(o1, o2, t1, t2, coords[:, 0], coords[:, 1])
out['loss'].backward()
if device == 'cuda':
    grown = torch.cuda.max_memory_allocated() - base
else:
    grown = rss('VmHWM') - base
grads = dict(loss=out['loss'].detach(), g1=feats[0].grad, g2=feats[1].grad)
torch.save({k: v.cpu() for k, v in grads.items()}, sys.argv[5])
print(json.dumps(dict(peak=grown)))
"""


def bench_memory(args, tmp_dir):
    found = {}
    for mode in ('dense', 'bounded'):
        out_file = osp.join(tmp_dir, f'{mode}.pt')
        # Large blocks through mmap, so that freed memory leaves the process
        # and its RSS high-water mark (VmHWM, reset just before) is the peak.
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536')
        cmd = [
            sys.executable,
            '-c',
            MEMORY_CHILD,
            mode,
            '16',
            '56',
            args.device,
            out_file,
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env)
        if result.returncode != 0:
            raise RuntimeError(result.stderr[-2000:])
        found[mode] = (
            json.loads(result.stdout.strip().splitlines()[-1])['peak'],
            torch.load(out_file),
        )
    dense, bounded = found['dense'][1], found['bounded'][1]
    diff = max((dense[k] - bounded[k]).abs().max().item() for k in dense)
    return found['dense'][0], found['bounded'][0], diff


def switch_row(name, t_pixpro, t_other, pixpro_on, labels, keys):
    """Table row and report entry: PixPro with one setting off against on."""
    t_off, t_on = (t_other, t_pixpro) if pixpro_on else (t_pixpro, t_other)
    off_label, on_label, winner = labels
    line = (
        f'| PixPro step, {name}: {off_label} vs {on_label} (s) | {t_off:.3f} | '
        f'{t_on:.3f} | {t_on / t_off:.3f} | < 1: {winner} faster |'
    )
    off_key, on_key = keys
    return line, {off_key: t_off, on_key: t_on, 'ratio': t_on / t_off}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--depth', type=int, default=50, choices=[18, 34, 50, 101])
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    parser.add_argument('--amp', action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--pipeline-images', type=int, default=120)
    parser.add_argument(
        '--photos', default=PHOTOS, help='folder of .png / .jpg photos (bundled ones)'
    )
    parser.add_argument('--skip-memory', action='store_true')
    parser.add_argument(
        '--channels-last',
        action=argparse.BooleanOptionalAction,
        default=None,
        help="both models in (or not in) channels_last; default: the config's",
    )
    parser.add_argument(
        '--compare-channels-last',
        action='store_true',
        help='also time PixPro in the other memory format (same weights)',
    )
    parser.add_argument(
        '--compare-amp',
        action='store_true',
        help='also time PixPro with --amp switched (same weights)',
    )
    parser.add_argument('--json', help='also write the numbers here')
    args = parser.parse_args(argv)
    if not osp.isdir(args.photos):
        parser.error(f'--photos: no folder {args.photos}')
    if args.amp is None:
        args.amp = args.device == 'cuda'
    if args.threads:
        torch.set_num_threads(args.threads)
    from mmpixpro.utils import register_all_modules

    register_all_modules()
    print(
        f'device {args.device}, threads {torch.get_num_threads()}, '
        f'ResNet-{args.depth}, '
        f'batch {args.batch} x 2 views, {args.size} px, amp {args.amp}, '
        f'median of {args.steps} steps, channels_last '
        f'{"as configured" if args.channels_last is None else args.channels_last}',
        flush=True,
    )
    report = {}
    lines = [
        '| measurement | baseline | PixPro / ours | ratio | target |',
        '|---|---|---|---|---|',
    ]
    for name, medians, channels_last in bench_steps(args):
        t_plain, t_pixpro = medians['plain'], medians['pixpro']
        target = '<= 1.05' if name == 'C5' else '<= 1.15'
        ips = 2 * args.batch / t_pixpro
        lines.append(
            f'| step, {name} (s) | {t_plain:.3f} | {t_pixpro:.3f} ({ips:.1f} img/s) | '
            f'{t_pixpro / t_plain:.3f} | {target} |'
        )
        report[f'step {name}'] = dict(
            plain=t_plain, pixpro=t_pixpro, ratio=t_pixpro / t_plain
        )
        print(lines[-1], flush=True)
        low = 'fp16' if args.device == 'cuda' else 'bf16'
        switched = [  # medians key, report key, PixPro has it on, labels, keys
            (
                'other format',
                'channels_last',
                channels_last,
                ('contiguous', 'channels_last', 'channels_last'),
                ('contiguous', 'channels_last'),
            ),
            (
                'other precision',
                'amp',
                args.amp,
                ('fp32', f'{low} autocast', low),
                ('fp32', 'amp'),
            ),
        ]
        for key, prefix, pixpro_on, labels, keys in switched:
            if key in medians:
                line, report[f'{prefix} {name}'] = switch_row(
                    name, t_pixpro, medians[key], pixpro_on, labels, keys
                )
                lines.append(line)
                print(line, flush=True)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        pipeline_rows = bench_pipelines(args, tmp)
    for name, pil_ips, our_ips in pipeline_rows:
        target = '>= 3' if name == 'two-view pipeline' else ''
        lines.append(
            f'| {name} (img/s, 1 process, 1 thread) | {pil_ips:.1f} | '
            f'{our_ips:.1f} | {our_ips / pil_ips:.2f} | {target} |'
        )
        report[name] = dict(pil=pil_ips, ours=our_ips, ratio=our_ips / pil_ips)
        print(lines[-1], flush=True)
    # Decoding every image bounds any pipeline: even with free augmentation
    # ours could not beat (our decoding rate) / (PIL pipeline rate).
    ceiling = report['decoding alone']['ours'] / report['two-view pipeline']['pil']
    report['pipeline ratio ceiling'] = ceiling
    if not args.skip_memory:
        with tempfile.TemporaryDirectory() as tmp:
            dense, bounded, diff = bench_memory(args, tmp)
        gib = 1 << 30
        lines.append(
            f'| PixPro part peak memory, P3 448 px, batch 16 (GiB) | {dense / gib:.2f} '
            f'(dense) | {bounded / gib:.2f} | {bounded / dense:.2f} | <= 1 GiB |'
        )
        lines.append(
            f'| max abs. difference of loss and gradients | | {diff:.2e} | | <= 1e-5 |'
        )
        report['memory'] = dict(dense=dense, bounded=bounded, max_diff=diff)
        print('\n'.join(lines[-2:]), flush=True)
    print('\n' + '\n'.join(lines))
    print(
        f'\nDecoding every image caps the pipeline ratio at {ceiling:.2f} '
        '(our decoding rate / the PIL pipeline rate, bundled photos).'
    )
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=1)
    return report


if __name__ == '__main__':
    main()
