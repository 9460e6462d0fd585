"""The gateway interface: funding instructions, card payments, refunds, transfers, webhooks."""
from __future__ import annotations

from typing import NamedTuple, Protocol

from market.errors import DomainError


class GatewayError(DomainError):
    """The payment provider refused or could not be reached; nothing was booked."""
    code = "gateway_error"
    status = 502


class InvalidSignature(Exception):
    """A webhook whose signature does not verify, or that is too old to trust."""


class PaymentHandle(NamedTuple):
    external_id: str     # e.g. the PaymentIntent id
    client_secret: str   # what the payer's browser needs to confirm the payment


class Gateway(Protocol):
    name: str
    # True when payers pay by card at the PSP (a PaymentIntent), False for bank transfers.
    takes_cards: bool

    def instructions(self, *, amount_fen: int, reference: str) -> dict:
        """How to pay: for a bank, the custody account and the reference to quote."""

    def create_payment(self, *, amount_fen: int, order_number: str, reference: str,
                       idempotency_key: str) -> PaymentHandle:
        """Start a card payment for the amount (PSP gateways only)."""

    def refund(self, *, payment_external_id: str, amount_fen: int, idempotency_key: str,
               metadata: dict) -> str:
        """Refund part of a card payment; returns the PSP's refund id."""

    def transfer(self, *, amount_fen: int, destination: str, transfer_group: str,
                 idempotency_key: str, metadata: dict) -> str:
        """Pay a connected account; returns the PSP's transfer id."""

    def verify_event(self, payload: bytes, signature: str | None) -> dict:
        """The event of a webhook request, after checking its signature and age."""
