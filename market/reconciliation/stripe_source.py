"""Stripe balance transactions for a date range, pulled through the SDK, as statement lines.

Each balance transaction is a line under its own id (txn_…), carrying as reference the object
the ledger knows: the PaymentIntent of a charge (receipts are booked under it), the refund or
transfer id of money out. A non-zero fee becomes a line of its own (txn_…:fee), which the desk
turns into an adjustment to expense:gateway_fees.
"""
from __future__ import annotations

from datetime import datetime, timezone

import stripe

from market.reconciliation.statement import Line, Parsed, Statement

PAGE = 100


def fetch(client: stripe.StripeClient, since: datetime, until: datetime) -> list[dict]:
    """Balance transactions created in [since, until), with each charge's PaymentIntent.

    Pages run newest first; paging stops at the first transaction older than the range."""
    lo, hi = int(since.timestamp()), int(until.timestamp())
    found: list[dict] = []
    after = None
    while True:
        params = {"limit": PAGE, **({"starting_after": after} if after else {})}
        page = client.v1.balance_transactions.list(params=params)
        data = [t.to_dict() for t in page.data]
        for txn in data:
            if int(txn["created"]) < lo:
                return found
            if int(txn["created"]) < hi:
                if str(txn.get("source") or "").startswith("ch_"):
                    charge = client.v1.charges.retrieve(txn["source"]).to_dict()
                    txn = {**txn, "payment_intent": charge.get("payment_intent") or ""}
                found.append(txn)
        if not page.has_more or not data:
            return found
        after = data[-1]["id"]


def to_parsed(transactions: list[dict], label: str) -> Parsed:
    lines: list[Line] = []
    for txn in sorted(transactions, key=lambda t: (int(t["created"]), t["id"])):
        day = datetime.fromtimestamp(int(txn["created"]), timezone.utc).date()
        reference = txn.get("payment_intent") or str(txn.get("source") or "")
        where = f"balance transaction {txn['id']}"
        lines.append(Line(where, day, day, int(txn["amount"]), "stripe", "", reference,
                          txn["id"], None))
        if int(txn.get("fee") or 0):
            lines.append(Line(where + " fee", day, day, -int(txn["fee"]), "stripe", "",
                              "", f"{txn['id']}:fee", None))
    return Parsed("stripe", [Statement("stripe", label, None, None, lines)]).require_lines()
