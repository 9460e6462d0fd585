"""Payment gateways behind one small interface (DESIGN.md §4 rule 9), chosen by PAYMENT_GATEWAY."""
from __future__ import annotations

from flask import current_app

from market.escrow.gateways.bank import BankGateway
from market.escrow.gateways.base import (Gateway, GatewayError, InvalidSignature, PaymentHandle)
from market.escrow.gateways.stripe import StripeGateway

__all__ = ["Gateway", "GatewayError", "InvalidSignature", "PaymentHandle", "get_gateway"]


def get_gateway(name: str | None = None) -> Gateway:
    """The configured gateway (or the named one), built from the app's settings."""
    name = name or current_app.config["PAYMENT_GATEWAY"]
    if name == "bank":
        return BankGateway(current_app.config)
    if name == "stripe":
        return StripeGateway(current_app.config)
    raise ValueError(f"unknown payment gateway {name!r}")
