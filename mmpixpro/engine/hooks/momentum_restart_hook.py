"""Restart the momentum schedule when a new training stage starts."""

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpixpro.registry import HOOKS

from ..runner_state import checkpoint_to_load, resume_requested


@HOOKS.register_module()
class MomentumRestartHook(Hook):
    """Start tau's cosine schedule again when weights come from ``load_from``.

    A checkpoint of a finished stage (e.g. ImageNet pre-training) carries the
    target's step counter at its end, where tau is 1; a continued stage (e.g.
    120 epochs on COCO) would then never move its target. Before the first
    iteration of a run that is not a resume, the counter is set to 1: the
    loaded target weights are kept (0 would overwrite them with the online
    weights) and tau starts at ``1 - base_momentum * (cos(pi / K) + 1) / 2``,
    within 1e-6 of its base value for any K > 100. A resumed run keeps its
    counter, so its schedule continues exactly.

    Args:
        require_checkpoint (bool): Refuse to start without ``load_from`` (a
            continued stage trained from scratch would be silently wrong).
            Defaults to True.
    """

    def __init__(self, require_checkpoint: bool = True) -> None:
        self.require_checkpoint = require_checkpoint

    def before_train(self, runner) -> None:
        if resume_requested(runner) or runner.iter > 0:
            return
        if self.require_checkpoint and not checkpoint_to_load(runner):
            raise ValueError(
                'this stage continues a pre-training: set load_from to the '
                'checkpoint of the previous stage (e.g. --cfg-options '
                'load_from=work_dirs/in1k/epoch_100.pth)'
            )
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        steps = int(model.target_net.steps)
        if steps > 1:
            model.target_net.steps.fill_(1)
            runner.logger.info(
                f'MomentumRestartHook: target step counter {steps} -> 1 '
                '(new stage: tau starts again at its base value)'
            )
