"""Builders for payout tests: money owed to an organisation, a bank account an admin verified."""
from __future__ import annotations

import itertools

from market import ledger
from market.settlement import bank_accounts
from market.uow import transaction

_serial = itertools.count(1)


def owe(org_id: int, fen: int) -> None:
    """The platform owes the organisation fen more (as a settlement's release would leave it)."""
    with transaction():
        ledger.post([("revenue:fees", fen), (f"payable:{org_id}", -fen)],
                    f"test:owe:{org_id}:{next(_serial)}", "owed from an earlier settlement")


def verified_account(user, admin, number: str = "6222 0200 1234 5678"):
    """The user's organisation's bank account, set by its admin and verified."""
    account = bank_accounts.set_account(user, f"{user.org.name}", "中国工商银行深圳分行", number)
    return bank_accounts.verify(admin, account.id)
