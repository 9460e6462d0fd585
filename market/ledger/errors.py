"""Typed errors of the ledger context."""
from __future__ import annotations

from market.errors import Conflict, InvalidState


class InsufficientFunds(InvalidState):
    """A posting would take an account that may not go negative below zero."""
    code = "insufficient_funds"

    def __init__(self, account: str, balance_fen: int, change_fen: int):
        super().__init__(
            f"insufficient funds in {account}: balance {balance_fen} fen, change {change_fen} fen "
            f"would leave {balance_fen + change_fen} fen", field=account)
        self.account = account
        self.balance_fen = balance_fen
        self.change_fen = change_fen


class IdempotencyConflict(Conflict):
    """The idempotency key was already used for a different payload."""
    code = "idempotency_conflict"

    def __init__(self, key: str, entry_id: int):
        super().__init__(f"idempotency key {key!r} was already used for a different entry "
                         f"(entry {entry_id}); use a new key for a new posting")
        self.key = key
        self.entry_id = entry_id


class AlreadyReversed(Conflict):
    """The entry has already been reversed by another entry."""
    code = "already_reversed"
