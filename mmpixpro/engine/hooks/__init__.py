from .feature_spread_hook import FeatureSpreadHook
from .momentum_restart_hook import MomentumRestartHook
from .non_finite_loss_hook import NonFiniteLossHook
from .unreadable_image_hook import UnreadableImageHook

__all__ = [
    'FeatureSpreadHook',
    'MomentumRestartHook',
    'NonFiniteLossHook',
    'UnreadableImageHook',
]
