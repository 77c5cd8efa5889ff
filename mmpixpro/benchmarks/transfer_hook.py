"""The hook that initialises a benchmark model from a PixPro checkpoint."""

import json
import os.path as osp
from typing import List, Optional, Sequence, Tuple

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpixpro.engine.checkpoint_checks import drop_code_fields
from mmpixpro.engine.checkpoint_download import is_remote
from mmpixpro.engine.runner_state import (
    checkpoint_to_load,
    has_loaded,
    resume_requested,
    set_checkpoint_to_load,
    train_loop_built,
)
from mmpixpro.registry import HOOKS
from mmpixpro.utils.atomic_file import atomic_open
from mmpixpro.utils.cli import error_line_first
from mmpixpro.utils.no_follow import LinkRefusedError

from .backbone_arch import arch_mismatch
from .layouts import recognise
from .transfer import (
    TransferError,
    format_report,
    holds_fresh_tensors,
    model_state,
    pretraining_error,
    read_checkpoint,
    transfer_weights,
)

REPORT = 'transfer_report.json'
HOW = (
    'give the pre-trained checkpoint as --cfg-options load_from=PRETRAINED.pth '
    "(mmdet / mmseg / mmpretrain's train.py, mim train) or run "
    'tools/benchmarks/train.py CONFIG PRETRAINED.pth'
)


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


def _pretrained_init(module) -> Optional[str]:
    """The checkpoint of a ``dict(type='Pretrained', checkpoint=...)``
    ``init_cfg`` of ``module`` (alone or in a list), if any."""
    init = getattr(module, 'init_cfg', None)
    for item in init if isinstance(init, list) else [init]:
        if isinstance(item, dict) and item.get('type') == 'Pretrained':
            return item.get('checkpoint')
    return None


# mmdet / mmseg / mmpretrain configs name it type='mmpixpro.PretrainedTransferHook'.
@HOOKS.register_module()
class PretrainedTransferHook(Hook):
    """Load pre-trained weights after the model's own initialisation.

    The pre-training checkpoint is in any layout of
    :mod:`mmpixpro.benchmarks.layouts` (ours; mmpretrain / MMSelfSup of any
    algorithm; torchvision / timm; the MoCo, DenseCL, SoCo, SlotCon,
    PyContrast and PixPro releases; detectron2's ``.pkl``), recognised from
    its contents and named in the report; a file in no known layout, or in
    two, stops the run before training. It is, whichever is given (two
    different files stop the run):

    - ``checkpoint`` (``tools/benchmarks/train.py CONFIG CHECKPOINT`` sets it,
      or ``--cfg-options custom_hooks.0.checkpoint=...``);
    - the Runner's ``load_from`` (``--cfg-options load_from=...`` of the
      downstream project's own ``train.py`` or ``mim train``) when it is a
      pre-training checkpoint: taken here before mmengine would load it
      non-strictly, so the same rules apply (and mmengine does not list the
      projector's tensors as unexpected keys). A ``load_from`` that is a
      model of this config (it holds tensors the rules leave fresh: a
      fine-tuned checkpoint) is mmengine's: it loads as always and nothing is
      loaded over it;
    - the backbone's ``init_cfg=dict(type='Pretrained', checkpoint=...)`` (a
      config that sets one): cleared, so that ``init_weights`` does not load
      it non-strictly first.

    Each of them may be a file, a URL or an mmengine ``scheme://`` name:
    every one is read by mmpixpro's reader (``weights_only=True``, URLs
    downloaded first, the tensor digest checked), and one that does not
    read stops the run with one line naming it.

    Runs before the first iteration (after ``init_weights`` and
    ``load_from``), is skipped when the run resumes, logs a report of which
    tensors came from the checkpoint and which start fresh, per module, and
    rank 0 writes it to ``{work_dir}/transfer_report.json`` (atomically,
    never through a link at that name). The report is
    logged again at the end of the run. A checkpoint whose ResNet depth
    differs from the model's stops the run before training, naming both
    depths and the ``--cfg-options`` that fit it.

    A checkpoint whose backbone is another architecture than the model's (a
    Swin into a ConvNeXt or ResNet, a Swin-T into a Swin-S) stops the same
    way, with one line naming both. An ImageNet-supervised release of a
    Swin / ConvNeXt (an mmpretrain classifier, the Swin Transformer release,
    timm's ConvNeXt) loads through the same rules, the stage output norms it
    lacks starting fresh (:mod:`.layouts`).

    Args:
        checkpoint (str, optional): The pre-training checkpoint.
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
        self.source: Optional[str] = None  # chosen in before_run

    # -- which checkpoint -----------------------------------------------------
    def before_run(self, runner) -> None:
        # mmdet's / mmseg's train.py show the traceback: its first line on
        # stderr is then the message
        with error_line_first():
            self._choose(runner)

    def _choose(self, runner) -> None:
        self.source, self.report = None, None
        model = _unwrap(runner.model)
        training = train_loop_built(runner)  # not test() / val()
        load_from = checkpoint_to_load(runner)
        if load_from is not None and not osp.isfile(load_from):
            if not is_remote(load_from):
                raise FileNotFoundError(f'load_from {load_from!r} not found')
        # a file, a URL or a scheme://: read as data (a URL downloaded first)
        ckpt = read_checkpoint(load_from) if load_from is not None else None
        own = model_state(ckpt)
        if own is not None and holds_fresh_tensors(
            own, model.state_dict(), self.rules, self.fresh
        ):
            if training:
                self._model_checkpoint(runner, load_from)
            return
        if not training:
            if ckpt is not None:
                recognise(ckpt, f'load_from {load_from!r}')  # or no layout
                raise pretraining_error(
                    load_from, ckpt, model.state_dict(), self.rules, self.fresh
                )
            return
        given = self._given(model, load_from)
        if not given:
            return  # before_train stops unless the run resumes
        if len({osp.abspath(path) for path, _ in given}) > 1:
            raise TransferError(
                'two pre-trained checkpoints: '
                + ', '.join(f'{path!r} ({origin})' for path, origin in given)
                + '; give one'
            )
        self.source, origin = given[0]
        if ckpt is not None:
            # Ours now: mmengine would load it non-strictly (or, with
            # resume=True, resume from it); a resume takes the work dir's.
            resume = resume_requested(runner)
            set_checkpoint_to_load(runner, None, resume)
            if resume:
                runner.logger.info(
                    f'load_from {load_from} is a pre-training checkpoint: the '
                    "run resumes from the work dir's newest checkpoint, or "
                    'starts from it when there is none'
                )
        if ckpt is None or osp.abspath(load_from) != osp.abspath(self.source):
            ckpt = read_checkpoint(self.source)
        recognised = recognise(ckpt, repr(self.source))
        runner.logger.info(
            f'Pre-trained checkpoint (from {origin}): {self.source}, '
            f'layout: {recognised.name}'
        )
        problem = arch_mismatch(
            self.source,
            recognised.state,
            model.state_dict(),
            runner.cfg.get('model', {}),
        )
        if problem is not None:
            raise TransferError(problem)

    def _model_checkpoint(self, runner, load_from: str) -> None:
        """``load_from`` is a model of this config: mmengine loads (or
        resumes from) it, and nothing is loaded over it."""
        if resume_requested(runner):
            runner.logger.info(
                f'Resuming from {load_from}: the pre-trained weights are not '
                'loaded again'
            )
            return
        other = self.checkpoint or _pretrained_init(
            getattr(_unwrap(runner.model), 'backbone', None)
        )
        if other:
            raise TransferError(
                f'load_from {load_from!r} is a model of this config and '
                f'{other!r} a pre-training checkpoint to load over it: give one'
            )
        runner.logger.info(
            f'load_from {load_from} is a model of this config: mmengine loads it '
            'as it is, no pre-trained weights over it'
        )

    def _given(self, model, load_from: Optional[str]) -> List[Tuple[str, str]]:
        """The pre-training checkpoints given, with where each came from."""
        given = []
        if self.checkpoint:
            given.append((self.checkpoint, 'the hook'))
        if load_from is not None:
            given.append((load_from, 'load_from'))
        backbone = getattr(model, 'backbone', None)
        init = _pretrained_init(backbone)
        if init:
            given.append((init, "the backbone's init_cfg"))
            backbone.init_cfg = None  # not loaded twice, nor non-strictly
        return given

    # -- loading ----------------------------------------------------------------
    def before_train(self, runner) -> None:
        with error_line_first():
            self._load(runner)

    def _load(self, runner) -> None:
        if has_loaded(runner) or runner.iter > 0:
            if self.source is not None:  # else a model of this config
                runner.logger.info(
                    'Resumed run: the pre-trained weights are not loaded again'
                )
            return
        if self.source is None:
            raise ValueError(f'PretrainedTransferHook has no checkpoint: {HOW}')
        model = _unwrap(runner.model)
        self.report = transfer_weights(model, self.source, self.rules, self.fresh)
        runner.logger.info('\n' + format_report(self.report))
        if is_main_process():  # one file, one writer
            self._write_report(runner)

    def _write_report(self, runner) -> None:
        """``transfer_report.json``, atomically (it appears whole or not at
        all); a link planted at its name is neither followed nor replaced:
        a warning, and the report stays in the log (rank 0 alone raising
        here would leave the other ranks waiting)."""
        path = osp.join(runner.work_dir, REPORT)
        try:
            with atomic_open(path, 'w', overwrite=True) as f:
                json.dump(self.report, f, indent=1)
        except LinkRefusedError as e:
            runner.logger.warning(f'{REPORT} not written: {e}')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """A checkpoint is data: mmengine's ``Runner.resume`` (also in mmdet's
        / mmseg's own train.py ``--resume``) parses ``meta['config']`` as
        Python right after this hook; it is dropped first."""
        for key in drop_code_fields(checkpoint):
            runner.logger.warning(
                f"meta['{key}'] of the loaded checkpoint ignored: a checkpoint "
                'is data, and mmengine would run that text as Python'
            )

    def after_run(self, runner) -> None:
        if self.report is not None:
            runner.logger.info('\n' + format_report(self.report))
