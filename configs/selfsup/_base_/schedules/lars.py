# The optimiser of every pre-training schedule: LARS, lr = 1.0 x
# total_batch / 256 (4.0 for 8 GPUs x 128), weight decay 1e-5, momentum 0.9,
# trust coefficient 0.001; biases and 1-D parameters excluded (PixProLARS).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='PixProLARS', lr=4.0, momentum=0.9, weight_decay=1e-5, eta=0.001
    ),
)
# `tools/train.py --auto-scale-lr` rescales lr linearly to the real batch.
auto_scale_lr = dict(base_batch_size=1024)
