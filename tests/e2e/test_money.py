"""Paying into escrow by bank transfer, in a real browser (issue 5's pages).

The generator (gen1, in Chinese) opens funding and reads the transfer instructions; finance
(in English) books the bank receipt, first with a mistyped reference, which is refused; the
payment page then shows the money held, and the trial balance still sums to zero.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from market import db, ledger
from market.escrow.models import Receipt
from market.listings.validation import today
from market.orders.models import Order
from tests.e2e.test_sampling_contract import log_in, user
from tests.escrow_factories import make_order

pytestmark = [pytest.mark.committed, pytest.mark.e2e]


def mistype(reference: str) -> str:
    """The reference with its last digit changed: what a payer's typo looks like."""
    last = reference[-1]
    return reference[:-1] + ("0" if last != "0" else "1")


def test_bank_funding_from_instructions_to_trial_balance(csrf_app, page_for):
    from market.demo import seed
    seed()
    order = make_order(user("gen1").org, user("op1").org)  # ¥3,000 disposal line, contract signed

    generator = log_in(page_for, "zh-CN", "gen1")
    generator.goto(f"/orders/{order.id}/payment")
    generator.get_by_test_id("start-funding").locator("button").click()
    instructions = generator.get_by_test_id("bank-instructions")
    assert generator.get_by_test_id("amount-due").inner_text() == "¥3,000.00"
    assert "附言（请准确填写）" in instructions.inner_text()
    reference = generator.get_by_test_id("reference").inner_text()
    assert reference.startswith(order.number)
    generator.context.close()

    finance = log_in(page_for, "en", "finance")
    finance.goto("/finance")
    assert finance.locator(f"[data-testid=awaiting][data-reference='{reference}']").count() == 1

    def book(ref: str):
        form = finance.get_by_test_id("confirm-receipt")
        form.locator("input[name=reference]").fill(ref)
        form.locator("input[name=amount]").fill("3000.00")
        form.locator("input[name=received_on]").fill(today().isoformat())
        form.locator("input[name=payer_name]").fill("深圳市华芯电子制造有限公司")
        form.locator("input[name=bank_ref]").fill("CMB-20261125-0001")
        form.locator("button[type=submit]").click()

    book(mistype(reference))  # a typo fails the check digit: refused, nothing booked
    assert "has wrong check digits: probably a typo" in finance.get_by_test_id(
        "confirm-receipt").inner_text()
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 0

    book(reference)
    assert finance.locator("[data-testid=receipt][data-status=funded]").count() == 1
    finance.goto("/finance/trial-balance")
    assert finance.get_by_test_id("trial-balance").get_attribute("data-total") == "0"
    finance.context.close()

    db.session.remove()
    assert db.session.get(Order, order.id).status == "funded"
    assert ledger.balance(f"escrow:{order.number}") == 300_000
    generator = log_in(page_for, "zh-CN", "gen1")
    generator.goto(f"/orders/{order.id}/payment")
    assert generator.get_by_test_id("payment").get_attribute("data-status") == "funded"
    assert generator.get_by_test_id("escrow-held").inner_text() == "¥3,000.00"
    generator.context.close()
