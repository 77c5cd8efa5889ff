from .epoch_worker_seed_hook import EpochWorkerSeedHook
from .feature_spread_hook import FeatureSpreadHook
from .iter_seed_hook import IterSeedHook
from .momentum_restart_hook import MomentumRestartHook
from .non_finite_loss_hook import NonFiniteLossHook
from .plain_checkpoint_hook import PlainCheckpointHook
from .protocol_batch_hook import ProtocolBatchHook
from .publish_checkpoint_hook import PublishCheckpointHook
from .unreadable_image_hook import UnreadableImageHook

__all__ = [
    'EpochWorkerSeedHook',
    'FeatureSpreadHook',
    'IterSeedHook',
    'MomentumRestartHook',
    'NonFiniteLossHook',
    'PlainCheckpointHook',
    'ProtocolBatchHook',
    'PublishCheckpointHook',
    'UnreadableImageHook',
]
