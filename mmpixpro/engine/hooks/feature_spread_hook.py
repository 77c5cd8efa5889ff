"""Warn when the pixel features stop varying over pixels (collapse)."""

import torch
from mmengine.hooks import Hook

from mmpixpro.registry import HOOKS


def scalar(value) -> float:
    """A logged value as a float (a loss tensor still requires grad:
    ``float()`` of it warns)."""
    return float(torch.as_tensor(value).detach())


@HOOKS.register_module()
class FeatureSpreadHook(Hook):
    """Warn when the logged ``feature_spread`` falls below ``threshold``.

    ``feature_spread`` (computed by :class:`PixelHead`) is
    ``sqrt(C) * mean std over pixels`` of the normalised target features:
    about 1 for features spread over the sphere, 0 when all pixels of an image
    share one feature. A PixPro loss near -4 with a spread near 0 is a
    collapse, not success.

    Args:
        threshold (float): Defaults to 0.05.
        interval (int): At most one warning per this many iterations.
            Defaults to 50.
    """

    def __init__(self, threshold: float = 0.05, interval: int = 50) -> None:
        self.threshold = threshold
        self.interval = interval
        self.last_warning = None
        self.warnings = 0

    def after_train_iter(
        self, runner, batch_idx, data_batch=None, outputs=None
    ) -> None:
        spread = (outputs or {}).get('feature_spread')
        if spread is None or scalar(spread) >= self.threshold:
            return
        if (
            self.last_warning is not None
            and runner.iter - self.last_warning < self.interval
        ):
            return
        self.last_warning = runner.iter
        self.warnings += 1
        runner.logger.warning(
            f'iteration {runner.iter + 1}: pixel-feature spread {scalar(spread):.4f} < '
            f'{self.threshold}: the features hardly vary over pixels any more '
            f'(collapse); loss {scalar(outputs.get("loss", float("nan"))):.4f}'
        )
