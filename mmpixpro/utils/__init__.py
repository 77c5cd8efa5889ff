from .checkpoint import allow_checkpoint_types
from .setup_env import register_all_modules

__all__ = ['allow_checkpoint_types', 'register_all_modules']
