"""Stripe balance transactions pulled from localstripe map one-to-one to ledger entries; a
synthetic fee line (localstripe reports zero fees) becomes an adjustment."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from market import db, ledger
from market.escrow.funding import book_receipt
from market.escrow.models import Payout
from market.reconciliation import close, desk, imports, stripe_source
from market.reconciliation import jobs as recon
from market.reconciliation.errors import AlreadyImported
from market.reconciliation.models import Match, ReconException, StatementLine
from market.uow import transaction
from tests.services.test_stripe_localstripe import localstripe, pay_by_card, sdk  # noqa: F401


def test_balance_transactions_match_ledger_entries_one_to_one(localstripe, finance,  # noqa: F811
                                                              monkeypatch):
    c = sdk(localstripe)
    since = datetime.now(timezone.utc) - timedelta(minutes=1)
    pi = c.v1.payment_intents.create(params={"amount": 300_000, "currency": "cny"})
    pay_by_card(localstripe, pi.id)
    refund = c.v1.refunds.create(params={"payment_intent": pi.id, "amount": 50_000})
    until = datetime.now(timezone.utc) + timedelta(minutes=1)
    # The ledger as the webhook job and the refund job write it.
    with transaction():
        book_receipt(gateway="stripe", reference=pi.id, req=None, amount_fen=300_000,
                     received_on=date.today(), payer_name="card payment", bank_ref=pi.id)
        payout = Payout(key=f"test-refund:{refund.id}", org_id=finance.org_id, gateway="stripe",
                        method="bank", amount_fen=50_000, external_id=refund.id,
                        status="executed")
        db.session.add(payout)
        db.session.flush()
        ledger.post([("suspense:stripe", 50_000), ("clearing:stripe", -50_000)],
                    f"payout:{payout.id}", "card refund")

    real = stripe_source.fetch

    def with_fee(client, lo, hi):  # what Stripe reports and localstripe does not: a fee
        return [{**t, "fee": 1_020} if t["amount"] == 300_000 else t
                for t in real(client, lo, hi)]
    monkeypatch.setattr(stripe_source, "fetch", with_fee)
    imp = imports.import_stripe(finance, since, until, client=c)
    assert imp.gateway == "stripe" and imp.line_count == 3
    recon.run_matching(finance, "stripe")

    matches = list(db.session.scalars(select(Match).where(Match.gateway == "stripe")))
    assert sorted(m.rule for m in matches) == ["reference", "reference"]
    assert len({m.entry_id for m in matches}) == 2
    fee = db.session.scalar(select(ReconException).where(ReconException.gateway == "stripe"))
    assert (fee.kind, fee.amount_fen) == ("unmatched_line", -1_020)
    assert db.session.get(StatementLine, fee.line_id).bank_txn_id.endswith(":fee")
    desk.resolve_by_adjustment(finance, fee.id, "expense:gateway_fees", "Stripe fee")
    assert ledger.balance("expense:gateway_fees") == 1_020
    assert ledger.balance("clearing:stripe") == 300_000 - 50_000 - 1_020
    day = close.close_day(finance, "stripe", date.today())
    assert day.status == "balanced"

    with pytest.raises(AlreadyImported):  # the same range again
        imports.import_stripe(finance, since, until, client=c)
