""".dev_scripts/pixpro_speed/steps: rows of the interleaved steps."""

import torch
from pixpro_speed.steps import fake_batch, switch_row


def test_switch_row_puts_the_setting_off_first():
    labels, keys = ('fp32', 'bf16 autocast', 'bf16'), ('fp32', 'amp')
    # PixPro ran with the setting off: the other model had it on
    line, entry = switch_row('C5', 2.0, 1.0, False, labels, keys)
    assert entry == dict(fp32=2.0, amp=1.0, ratio=0.5)
    assert line == (
        '| PixPro step, C5: fp32 vs bf16 autocast (s) | 2.000 | 1.000 | '
        '0.500 | < 1: bf16 faster |'
    )
    _, entry = switch_row('C5', 2.0, 1.0, True, labels, keys)
    assert entry == dict(fp32=1.0, amp=2.0, ratio=2.0)


def test_fake_batch_is_repeatable():
    (a1, a2), samples_a = fake_batch(2, 8, 'cpu')
    (b1, b2), samples_b = fake_batch(2, 8, 'cpu')
    assert torch.equal(a1, b1) and torch.equal(a2, b2) and not torch.equal(a1, a2)
    assert all(torch.equal(s.coords, t.coords) for s, t in zip(samples_a, samples_b))
