"""The bank gateway: payers wire to the custody account quoting a reference; finance confirms."""
from __future__ import annotations

from flask_babel import gettext as _

from market.escrow.gateways.base import GatewayError, InvalidSignature, PaymentHandle


class BankGateway:
    name = "bank"
    takes_cards = False

    def __init__(self, config: dict):
        self.account = {"name": config["CUSTODY_ACCOUNT_NAME"],
                        "number": config["CUSTODY_ACCOUNT_NUMBER"],
                        "bank": config["CUSTODY_BANK"]}

    def instructions(self, *, amount_fen: int, reference: str) -> dict:
        return {"gateway": self.name, "amount_fen": amount_fen, "reference": reference,
                "account": dict(self.account)}

    def create_payment(self, **_kwargs) -> PaymentHandle:
        raise GatewayError(_("The bank gateway takes transfers to the custody account, not cards."))

    def refund(self, **_kwargs) -> str:
        # Bank payouts leave in the bank batch file (settlement and reconciliation issues).
        raise GatewayError(_("Bank refunds leave in the payout batch file."))

    def transfer(self, **_kwargs) -> str:
        raise GatewayError(_("Bank payouts leave in the payout batch file."))

    def verify_event(self, payload: bytes, signature: str | None) -> dict:
        raise InvalidSignature("the bank gateway has no webhooks")
