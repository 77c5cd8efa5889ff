# The optimiser of the Swin / ConvNeXt pre-training configs, MoBY's where
# PixPro's paper (ResNet, LARS) is silent (Xie et al. 2021, "Self-Supervised
# Learning with Swin Transformers", SwinTransformer/Transformer-SSL:
# moby_swin_tiny.yaml, config.py, moby_main.py): AdamW, lr 1e-3 at a total
# batch of 512 (scaled linearly), betas (0.9, 0.999), eps 1e-8, weight decay
# 0.05 with none on 1-D parameters (norms, biases, ConvNeXt's layer scales)
# and on Swin's position-bias tables, gradient norm clipped at 5.0.
# Mixed precision (MoBY: apex O1) on GPUs: fp16 with dynamic loss scaling;
# mmpixpro.testing.shrink_config(cpu=True) switches it off for CPU runs.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(
        type='AdamW', lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05
    ),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(
        flat_decay_mult=0.0,
        custom_keys={
            'relative_position_bias_table': dict(decay_mult=0.0),
            'absolute_pos_embed': dict(decay_mult=0.0),
        },
    ),
)
# `tools/train.py --auto-scale-lr` rescales lr linearly to the real batch.
auto_scale_lr = dict(base_batch_size=512)
