"""The progress tracker's steps (market.orders.state.progress): done / now / next along the path."""
from __future__ import annotations

import pytest

from market.orders import state


def marks(status, sampled=False):
    return [(s, m) for s, m in state.progress(status, sampled)]


def test_a_new_order_without_sampling_is_at_the_first_step():
    steps = marks("created")
    assert steps[0] == ("created", "now")
    assert all(m == "next" for _s, m in steps[1:])
    assert "sampling" not in dict(steps) and "price_confirmed" not in dict(steps)


def test_sampling_steps_show_only_when_the_order_is_subject_to_sampling():
    steps = dict(marks("sampling", sampled=True))
    assert steps["created"] == "done" and steps["sampling"] == "now"
    assert steps["price_confirmed"] == "next"


@pytest.mark.parametrize("status", [s for s in state.MAIN_PATH if s not in state.SAMPLING_STEPS])
def test_exactly_one_step_is_now_before_the_end(status):
    steps = marks(status)
    now = [s for s, m in steps if m == "now"]
    if status == "closed":
        assert now == [] and all(m == "done" for _s, m in steps)
    else:
        assert now == [status]
        at = [s for s, _m in steps].index(status)
        assert all(m == "done" for _s, m in steps[:at]) and all(m == "next" for _s, m in steps[at + 1:])


def test_a_dispute_interrupts_after_receipt():
    steps = marks("disputed")
    names = [s for s, _m in steps]
    assert names.index("disputed") == names.index("received") + 1
    assert dict(steps)["received"] == "done" and dict(steps)["disputed"] == "now"
    assert dict(steps)["settled"] == "next"


def test_a_cancelled_order_has_no_current_step():
    steps = marks("cancelled", sampled=True)
    assert dict(steps)["created"] == "done"
    assert not [s for s, m in steps if m == "now"]


@pytest.mark.parametrize("status", state.ORDER_STATUSES)
def test_every_status_has_a_tracker(status):
    assert marks(status) and marks(status, sampled=True)
