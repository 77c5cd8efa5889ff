"""Every pre-training row of the paper's Tables 1-6: its config and settings.

The settings of a row are the paper's defaults (C5, T = 0.7, gamma = 2,
l = 1, 100 epochs, ImageNet-1K, PixPro loss with the PPM) changed as the
row says; ``paper`` holds the numbers the paper reports for the row.
"""

S = '8xb128-coslr-100e_in1k.py'
C5 = f'pixpro_r50_c5_{S}'
P3 = f'pixpro_r50_p3_{S}'
P3_P6 = f'pixpro_r50_p3-p6_{S}'
FPN_HEAD = f'pixpro_r50_fcos-fpn-head_{S}'

DEFAULTS = dict(
    output='C5',
    fpn=None,
    towers=None,
    threshold=0.7,
    ppm='PPM',
    gamma=2.0,
    layers=1,
    loss='PixProLoss',
    temperature=None,
    projector_hidden=4096,
    instance=None,
    epochs=100,
    data='imagenet',
)

NO_PPM = dict(ppm=None, gamma=None, layers=None)

# (table, row, config, settings that differ from DEFAULTS, paper numbers)
ROWS = [
    (
        '1',
        'PixPro 100 ep: VOC AP / COCO C4 mAP / Cityscapes mIoU',
        C5,
        {},
        '58.8 / 40.0 / 76.8',
    ),
    (
        '1',
        'PixPro 400 ep: VOC AP / COCO C4 mAP / Cityscapes mIoU',
        'pixpro_r50_c5_8xb128-coslr-400e_in1k.py',
        dict(epochs=400),
        '60.2 / 40.5 / 77.2',
    ),
    (
        '1',
        'PixPro 100 ep: COCO R50-FPN mAP (FPN P3-P6)',
        P3_P6,
        dict(output='P3-P6', fpn='mask-rcnn'),
        '41.3',
    ),
    (
        '1',
        'PixPro 400 ep: COCO R50-FPN mAP (FPN P3-P6)',
        'pixpro_r50_p3-p6_8xb128-coslr-400e_in1k.py',
        dict(output='P3-P6', fpn='mask-rcnn', epochs=400),
        '41.4',
    ),
    (
        '2a',
        'T = 0.35 (C5)',
        f'pixpro-t0.35_r50_c5_{S}',
        dict(threshold=0.35),
        '58.3 / 39.5',
    ),
    ('2a', 'T = 0.7 (C5)', C5, {}, '58.8 / 40.8'),
    (
        '2a',
        'T = 1.4 (C5)',
        f'pixpro-t1.4_r50_c5_{S}',
        dict(threshold=1.4),
        '56.8 / 39.5',
    ),
    (
        '2a',
        'T = 2.8 (C5)',
        f'pixpro-t2.8_r50_c5_{S}',
        dict(threshold=2.8),
        '56.5 / 39.1',
    ),
    (
        '2b',
        'T = 0.35 (P3)',
        f'pixpro-t0.35_r50_p3_{S}',
        dict(output='P3', fpn='mask-rcnn', threshold=0.35),
        '58.1 / 40.8',
    ),
    ('2b', 'T = 0.7 (P3)', P3, dict(output='P3', fpn='mask-rcnn'), '57.6 / 40.8'),
    (
        '2b',
        'T = 1.4 (P3)',
        f'pixpro-t1.4_r50_p3_{S}',
        dict(output='P3', fpn='mask-rcnn', threshold=1.4),
        '56.8 / 40.6',
    ),
    (
        '2b',
        'T = 2.8 (P3)',
        f'pixpro-t2.8_r50_p3_{S}',
        dict(output='P3', fpn='mask-rcnn', threshold=2.8),
        '56.1 / 40.2',
    ),
    (
        '2c',
        'gamma = 0.5',
        f'pixpro-gamma0.5_r50_c5_{S}',
        dict(gamma=0.5),
        '57.9 / 39.7',
    ),
    ('2c', 'gamma = 1', f'pixpro-gamma1.0_r50_c5_{S}', dict(gamma=1.0), '58.7 / 40.1'),
    ('2c', 'gamma = 2', C5, {}, '58.8 / 40.8'),
    ('2c', 'gamma = 4', f'pixpro-gamma4.0_r50_c5_{S}', dict(gamma=4.0), '58.0 / 40.0'),
    ('2c', 'gamma = 8', f'pixpro-gamma8.0_r50_c5_{S}', dict(gamma=8.0), '57.8 / 39.9'),
    ('2d', 'l = 0', f'pixpro-l0_r50_c5_{S}', dict(layers=0), '58.6 / 39.4'),
    ('2d', 'l = 1', C5, {}, '58.8 / 40.8'),
    ('2d', 'l = 2', f'pixpro-l2_r50_c5_{S}', dict(layers=2), '58.9 / 40.3'),
    ('2d', 'l = 3', f'pixpro-l3_r50_c5_{S}', dict(layers=3), '58.3 / 40.1'),
    ('2e', 'C5', C5, {}, '58.8 / 40.8'),
    (
        '2e',
        'P4',
        f'pixpro_r50_p4_{S}',
        dict(output='P4', fpn='mask-rcnn'),
        '56.7 / 40.9',
    ),
    ('2e', 'P3', P3, dict(output='P3', fpn='mask-rcnn'), '57.6 / 40.8'),
    ('2e', 'P3-P6', P3_P6, dict(output='P3-P6', fpn='mask-rcnn'), '55.8 / 41.3'),
    (
        '2f',
        '50 epochs',
        'pixpro_r50_c5_8xb128-coslr-50e_in1k.py',
        dict(epochs=50),
        '57.2 / 39.7',
    ),
    ('2f', '100 epochs', C5, {}, '58.8 / 40.8'),
    (
        '2f',
        '200 epochs',
        'pixpro_r50_c5_8xb128-coslr-200e_in1k.py',
        dict(epochs=200),
        '59.5 / 40.8',
    ),
    (
        '2f',
        '400 epochs',
        'pixpro_r50_c5_8xb128-coslr-400e_in1k.py',
        dict(epochs=400),
        '60.2 / 41.0',
    ),
]
for tau, no_ppm, with_ppm in (
    (0.1, '54.7 / 38.0', '52.7 / 37.4'),
    (0.2, '57.1 / 38.6', '53.0 / 37.3'),
    (0.3, '58.1 / 38.8', '52.9 / 37.5'),
):
    # one encoder for PixContrast and PixPro (Sec. 3.2): PixPro's projector
    contrast = dict(loss='PixContrastLoss', temperature=tau)
    ROWS += [
        (
            '3',
            f'PixContrast, tau = {tau}, without PPM',
            f'pixcontrast-tau{tau}_r50_c5_{S}',
            dict(contrast, **NO_PPM),
            no_ppm,
        ),
        (
            '3',
            f'PixContrast, tau = {tau}, with PPM',
            f'pixcontrast-ppm-tau{tau}_r50_c5_{S}',
            contrast,
            with_ppm,
        ),
    ]
SIMCLR_STAR = dict(loss='InfoNCELoss', temperature=0.2, predictor=False)
ROWS += [
    (
        '3',
        'PixPro without PPM (a linear layer instead)',
        f'pixpro-linear_r50_c5_{S}',
        dict(NO_PPM, ppm='linear'),
        '58.0 / 39.7',
    ),
    ('3', 'PixPro', C5, {}, '58.8 / 40.8'),
    (
        '4',
        'PixPro: VOC AP / COCO mAP / ImageNet linear top-1',
        C5,
        {},
        '58.8 / 40.8 / 55.1',
    ),
    (
        '4',
        'SimCLR* alone',
        f'simclr-star_r50_c5_{S}',
        dict(
            output=None,
            threshold=None,
            ppm=None,
            gamma=None,
            layers=None,
            loss=None,
            projector_hidden=None,
            instance=SIMCLR_STAR,
        ),
        '53.4 / 40.5 / 65.4',
    ),
    (
        '4',
        'PixPro + SimCLR*',
        f'pixpro-simclr-star_r50_c5_{S}',
        dict(instance=SIMCLR_STAR),
        '58.7 / 40.9 / 66.3',
    ),
    ('5', 'C5 (FCOS COCO mAP)', C5, {}, '37.8'),
    (
        '5',
        '+ FPN',
        f'pixpro_r50_fcos-fpn_{S}',
        dict(output='P3-P6', fpn='fcos'),
        '38.1',
    ),
    ('5', '+ head', FPN_HEAD, dict(output='P3-P6', fpn='fcos', towers=3), '38.6'),
    (
        '5',
        '+ instance',
        f'pixpro-simclr-star_r50_fcos-fpn-head_{S}',
        dict(output='P3-P6', fpn='fcos', towers=3, instance=SIMCLR_STAR),
        '39.8',
    ),
    ('6', 'C5 (Mask R-CNN R50-FPN, 1% / 10% COCO)', C5, {}, '13.2 / 25.9'),
    ('6', 'FPN', P3_P6, dict(output='P3-P6', fpn='mask-rcnn'), '14.1 / 26.6'),
    (
        '6',
        'FPN + 120 ep COCO',
        'pixpro_r50_p3-p6_8xb128-coslr-120e_coco.py',
        dict(output='P3-P6', fpn='mask-rcnn', epochs=120, data='coco'),
        '14.8 / 26.8',
    ),
]

# Configs that are no row of the paper, and why they exist.
EXTRAS = {
    'pixpro-inst-byol_r50_c5_8xb128-coslr-100e_in1k.py': (
        'PixPro + a BYOL-style instance branch (the paper uses SimCLR*)'
    ),
    'pixpro_r50_fcos-fpn-head_8xb128-coslr-120e_coco.py': (
        'the 120-epoch COCO continuation for the FCOS FPN + head model'
    ),
    'pixpro_r50_p3-p6_8xb128-coslr-120e_coco-with-unlabeled2017.py': (
        'Table 6 "FPN + 120 ep COCO" on train2017 + unlabeled2017 images '
        '(the option; the row uses train2017)'
    ),
    'pixpro_r50_fcos-fpn-one-tower_8xb128-coslr-100e_in1k.py': (
        'Table 5 "+ head" read as one tower of three convs, loaded into both '
        'FCOS towers at fine-tuning (the row pre-trains both towers)'
    ),
    'pixpro_r18_c5_1xb4-coslr-40e_demo.py': 'the CPU demo on the bundled photos',
}
# Former names, each a one-line config inheriting the new one.
ALIASES = {
    'pixpro_r50_fpn_head.py': FPN_HEAD,
    'pixpro_r50_fpn_head_8xb128-coslr-120e_coco.py': (
        'pixpro_r50_fcos-fpn-head_8xb128-coslr-120e_coco.py'
    ),
}

# Beyond the paper: PixPro on Swin Transformer and ConvNeXt (MoBY's recipe
# around PixPro's values; tests/test_configs/test_swin_convnext_configs.py).
# config -> (backbone, output levels, instance branch, epochs, total batch)
B = 'amp-coslr'
BEYOND = {
    f'pixpro_swin-t_c5_8xb64-{B}-100e_in1k.py': ('Swin-T', 'C5', False, 100, 512),
    f'pixpro_swin-t_p3-p6_8xb64-{B}-100e_in1k.py': ('Swin-T', 'P3-P6', False, 100, 512),
    f'pixpro_swin-t_c5_8xb64-{B}-300e_in1k.py': ('Swin-T', 'C5', False, 300, 512),
    f'pixpro_swin-t_p3-p6_8xb64-{B}-300e_in1k.py': ('Swin-T', 'P3-P6', False, 300, 512),
    f'pixpro_swin-t_c5_16xb64-{B}-100e_in1k.py': ('Swin-T', 'C5', False, 100, 1024),
    f'pixpro_swin-t_p3-p6_16xb64-{B}-100e_in1k.py': (
        'Swin-T',
        'P3-P6',
        False,
        100,
        1024,
    ),
    f'pixpro-simclr-star_swin-t_c5_8xb64-{B}-100e_in1k.py': (
        'Swin-T',
        'C5',
        True,
        100,
        512,
    ),
    f'pixpro-simclr-star_swin-t_p3-p6_8xb64-{B}-100e_in1k.py': (
        'Swin-T',
        'P3-P6',
        True,
        100,
        512,
    ),
    f'pixpro_swin-s_c5_8xb64-{B}-100e_in1k.py': ('Swin-S', 'C5', False, 100, 512),
    f'pixpro_swin-s_p3-p6_8xb64-{B}-100e_in1k.py': ('Swin-S', 'P3-P6', False, 100, 512),
    f'pixpro-simclr-star_swin-s_c5_8xb64-{B}-100e_in1k.py': (
        'Swin-S',
        'C5',
        True,
        100,
        512,
    ),
    f'pixpro_swin-b_c5_8xb64-{B}-100e_in1k.py': ('Swin-B', 'C5', False, 100, 512),
    f'pixpro_swin-b_p3-p6_8xb64-{B}-100e_in1k.py': ('Swin-B', 'P3-P6', False, 100, 512),
    f'pixpro-simclr-star_swin-b_c5_8xb64-{B}-100e_in1k.py': (
        'Swin-B',
        'C5',
        True,
        100,
        512,
    ),
    f'pixpro_convnext-t_c5_8xb64-{B}-100e_in1k.py': (
        'ConvNeXt-T',
        'C5',
        False,
        100,
        512,
    ),
    f'pixpro_convnext-t_p3-p6_8xb64-{B}-100e_in1k.py': (
        'ConvNeXt-T',
        'P3-P6',
        False,
        100,
        512,
    ),
    f'pixpro-simclr-star_convnext-t_c5_8xb64-{B}-100e_in1k.py': (
        'ConvNeXt-T',
        'C5',
        True,
        100,
        512,
    ),
    f'pixpro_convnext-s_c5_8xb64-{B}-100e_in1k.py': (
        'ConvNeXt-S',
        'C5',
        False,
        100,
        512,
    ),
    f'pixpro_convnext-s_p3-p6_8xb64-{B}-100e_in1k.py': (
        'ConvNeXt-S',
        'P3-P6',
        False,
        100,
        512,
    ),
    f'pixpro-simclr-star_convnext-s_c5_8xb64-{B}-100e_in1k.py': (
        'ConvNeXt-S',
        'C5',
        True,
        100,
        512,
    ),
}
# PixPro on a plain ViT (the Swin / ConvNeXt recipe; C4 is its stride-16
# map; tests/test_configs/test_vit_configs.py). Same fields as BEYOND.
VIT = {
    f'pixpro_vit-b-p16_c4_8xb64-{B}-100e_in1k.py': ('ViT-B/16', 'C4', False, 100, 512),
    f'pixpro_vit-b-p16_p3-p6_8xb64-{B}-100e_in1k.py': (
        'ViT-B/16',
        'P3-P6',
        False,
        100,
        512,
    ),
}
