"""The hook that initialises a benchmark model from a PixPro checkpoint."""

import json
import os.path as osp
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from .transfer import format_report, transfer_weights


# In mmengine's root registry, so that mmdet / mmseg / mmpretrain configs
# (their own default scopes) find it by its plain name.
@HOOKS.register_module()
class PretrainedTransferHook(Hook):
    """Load PixPro weights after the model's own initialisation.

    Runs before the first iteration (after ``init_weights`` and
    ``load_from``), is skipped when the run resumes, logs a report of which
    tensors came from the checkpoint and which start fresh, per module, and
    writes it to ``{work_dir}/transfer_report.json``. The report is logged
    again at the end of the run.

    Args:
        checkpoint (str, optional): The pre-training checkpoint. Required;
            ``tools/benchmarks/train.py CONFIG CHECKPOINT`` sets it.
        rules (Sequence[dict]): See :func:`transfer_weights`.
        fresh (Sequence[str]): Regexes of tensors expected to start fresh.
    """

    priority = 'VERY_HIGH'

    def __init__(
        self,
        checkpoint: Optional[str] = None,
        rules: Sequence[dict] = (
            dict(model='backbone.', checkpoint='backbone.', required=True),
        ),
        fresh: Sequence[str] = (),
    ) -> None:
        self.checkpoint = checkpoint
        self.rules = list(rules)
        self.fresh = list(fresh)
        self.report = None

    def before_train(self, runner) -> None:
        if runner._resume or runner.iter > 0:
            runner.logger.info(
                'Resumed run: the pre-trained weights are not loaded again'
            )
            return
        if not self.checkpoint:
            raise ValueError(
                'PretrainedTransferHook has no checkpoint: run '
                'tools/benchmarks/train.py CONFIG CHECKPOINT'
            )
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self.report = transfer_weights(model, self.checkpoint, self.rules, self.fresh)
        runner.logger.info('\n' + format_report(self.report))
        with open(osp.join(runner.work_dir, 'transfer_report.json'), 'w') as f:
            json.dump(self.report, f, indent=1)

    def after_run(self, runner) -> None:
        if self.report is not None:
            runner.logger.info('\n' + format_report(self.report))
