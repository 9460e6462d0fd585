"""The bank gateway: payers wire to the custody account quoting a reference; finance confirms."""
from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from market.escrow.gateways.base import GatewayError, InvalidSignature, PaymentHandle


PAYOUT_FILE_COLUMNS = ("batch_reference", "line_reference", "debtor_account", "payee_name",
                       "payee_bank", "payee_account", "amount", "currency", "remittance_info")


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

    def payout_file(self, *, batch_reference: str, lines: list[dict]) -> str:
        """The bank's bulk payment file of a payout batch (layout: docs/payout-batch.md): a
        header row, then one row per payment from the custody account."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(PAYOUT_FILE_COLUMNS)
        for ln in lines:
            fen = ln["amount_fen"]
            writer.writerow([batch_reference, ln["reference"],
                             self.account["number"].replace(" ", ""), ln["name"], ln["bank"],
                             ln["account"], f"{fen // 100}.{fen % 100:02d}", "CNY",
                             f"Hazex payout {ln['reference']}"])
        return out.getvalue()

    def verify_event(self, payload: bytes, signature: str | None) -> dict:
        raise InvalidSignature("the bank gateway has no webhooks")
