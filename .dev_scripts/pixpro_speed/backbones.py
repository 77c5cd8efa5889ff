"""PixPro on Swin Transformer, ConvNeXt and ViT against ResNet-50 C5, in one run
(``--backbones``): per model the online pass's FLOPs and parameters
(:func:`mmpixpro.analysis.pixpro_flops`, as ``tools/analysis/get_flops.py``),
the training step's time and peak memory per image, and each as a ratio to
R50 C5.

Each model steps in a process of its own (:class:`~.revisions.StepWorker`:
``model.train_step`` with the config's optimiser, the data preprocessor,
both views online and target, the momentum update); the R50 C5 process
stays up and steps in turn with each other model, so that each time ratio
is measured under the same load. Peak memory of a step: on a
GPU ``max_memory_allocated`` (weights, target, gradients, optimiser state
and activations); on CPU the process's resident high-water mark during the
step above its size before the model was built, the same parts (memory the
allocator keeps after an earlier step counts too: an upper bound, close to
the peak once the first steps have run). On CPU the
configs' GPU switches are off (activation checkpointing, AMP: the
``--amp`` option decides, as in every row of the tool); on a GPU
``with_cp`` is as configured.
"""

import os.path as osp
import statistics
import tempfile

from mmengine.config import Config

from mmpixpro.analysis import pixpro_flops
from mmpixpro.testing import shrink_config

from .options import REPO
from .revisions import StepWorker, config_spec

S = '8xb64-amp-coslr-100e_in1k.py'
#: name -> pre-training config (configs/selfsup); the first is the baseline.
BACKBONE_MODELS = {
    'R50 C5': 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py',
    'Swin-T C5': f'pixpro_swin-t_c5_{S}',
    'Swin-T P3-P6': f'pixpro_swin-t_p3-p6_{S}',
    'Swin-S C5': f'pixpro_swin-s_c5_{S}',
    'Swin-B C5': f'pixpro_swin-b_c5_{S}',
    'ConvNeXt-T C5': f'pixpro_convnext-t_c5_{S}',
    'ConvNeXt-T P3-P6': f'pixpro_convnext-t_p3-p6_{S}',
    'ConvNeXt-S C5': f'pixpro_convnext-s_c5_{S}',
    'ViT-B/16 C4': f'pixpro_vit-b-p16_c4_{S}',
    'ViT-B/16 P3-P6': f'pixpro_vit-b-p16_p3-p6_{S}',
}
BASELINE = 'R50 C5'


def backbone_config(name, device):
    """The config of ``name`` at full size with BN for one process; on CPU
    without activation checkpointing; mixed precision left to ``--amp``."""
    path = osp.join(REPO, 'configs', 'selfsup', BACKBONE_MODELS[name])
    cfg = shrink_config(Config.fromfile(path), 50, sync_bn=False, cpu=device == 'cpu')
    if cfg.optim_wrapper.get('type') == 'AmpOptimWrapper':
        cfg.optim_wrapper.type = 'OptimWrapper'
        cfg.optim_wrapper.pop('loss_scale', None)
    return cfg


def model_worker(options, name, tmp_dir):
    """FLOPs and parameters of ``name``'s online pass, and a worker stepping
    its model, warmed up by two steps."""
    cfg = backbone_config(name, options.device)
    flops = pixpro_flops(cfg, (options.size, options.size))
    entry = dict(
        config=BACKBONE_MODELS[name],
        gflops_per_image=2 * flops.online / 1e9,
        params_m=flops.params['online'] / 1e6,
        backbone_params_m=flops.params['backbone'] / 1e6,
    )
    spec = config_spec(options, REPO, cfg, tmp_dir, options.amp)
    worker = StepWorker(spec, tmp_dir, name)
    entry['peak'] = [r['peak'] for r in (worker.step(), worker.step())]
    return entry, worker


RATIOS = ('gflops_per_image', 'params_m', 'step_s_per_image', 'peak_mib_per_image')


def finish(entry, times, batch):
    """Median step and largest peak of a model, per image."""
    peaks = [p for p in entry.pop('peak') if p is not None]
    entry['step_s_per_image'] = statistics.median(times) / batch
    entry['peak_mib_per_image'] = max(peaks) / batch / 2**20 if peaks else None


def table_row(name, entry):
    peak = entry['peak_mib_per_image']
    ratios = ', '.join(
        f'{v:.2f}' if v is not None else '-' for v in entry['ratios'].values()
    )
    return (
        f'| {name} | {entry["gflops_per_image"]:.2f} | {entry["params_m"]:.1f} | '
        f'{entry["step_s_per_image"]:.3f} | {"-" if peak is None else f"{peak:.0f}"} '
        f'| {ratios} |'
    )


def backbone_rows(options, log):
    """Every model of ``options.backbone_models`` against R50 C5: table rows
    (each passed to ``log``) and the report entry ``'backbones'``.

    The R50 C5 worker lives through the whole run; each other model's
    worker steps in turn with it, ``options.steps`` times, so that the time
    ratio of a model is measured under the load the pair saw (R50's row: the
    median of all its steps)."""
    names = [n for n in options.backbone_models or BACKBONE_MODELS if n != BASELINE]
    found, lines = (
        {},
        [
            '| model | GFLOPs / image | params (M) | step / image (s) | '
            'peak / image (MiB) | ratios to R50 C5: FLOPs, params, time, memory |',
            '|---|---|---|---|---|---|',
        ],
    )
    with tempfile.TemporaryDirectory() as tmp:
        base, base_worker = model_worker(options, BASELINE, tmp)
        base_times, pairs = [], {}
        try:
            for name in names:
                entry, worker = model_worker(options, name, tmp)
                pair = []
                try:
                    for _ in range(options.steps):
                        result = base_worker.step()
                        base['peak'].append(result['peak'])
                        pair.append((result['time'], worker.step()))
                finally:
                    worker.close()
                entry['peak'] += [r['peak'] for _, r in pair]
                finish(entry, [r['time'] for _, r in pair], options.batch)
                base_times += [t for t, _ in pair]
                pairs[name] = statistics.median(t for t, _ in pair)
                found[name] = entry
        finally:
            base_worker.close()
    finish(base, base_times, options.batch)
    base['ratios'] = dict.fromkeys(RATIOS, 1.0)
    lines.append(table_row(BASELINE, base))
    log(lines[-1])
    for name, entry in found.items():
        entry['ratios'] = {
            k: entry[k] / base[k] if entry[k] and base[k] else None for k in RATIOS
        }
        # the time against R50's steps of the same pair
        entry['r50_step_s_per_image'] = pairs[name] / options.batch
        entry['ratios']['step_s_per_image'] = (
            entry['step_s_per_image'] / entry['r50_step_s_per_image']
        )
        lines.append(table_row(name, entry))
        log(lines[-1])
    return lines, {'backbones': dict({BASELINE: base}, **found)}
