"""The Stripe gateway through the official SDK: PaymentIntents, Refunds, Connect transfers,
webhooks.

Money is captured into the platform's balance at once (capture on confirmation): card holds expire
in days, so escrow is the ledger's, never a held authorisation (DESIGN.md §6). STRIPE_API_BASE
points the SDK elsewhere than api.stripe.com (localstripe or a local fake in tests).
"""
from __future__ import annotations

import json

import stripe
from flask_babel import gettext as _

from market.escrow.gateways.base import GatewayError, InvalidSignature, PaymentHandle

WEBHOOK_TOLERANCE_SECONDS = 300  # events signed more than 5 minutes ago are refused
TIMEOUT_SECONDS = 20


class StripeGateway:
    name = "stripe"
    takes_cards = True

    def __init__(self, config: dict):
        self.api_key = config.get("STRIPE_API_KEY")
        self.webhook_secret = config.get("STRIPE_WEBHOOK_SECRET")
        self.currency = config.get("STRIPE_CURRENCY", "cny")
        self.api_base = config.get("STRIPE_API_BASE")

    def _client(self) -> stripe.StripeClient:
        if not self.api_key:
            raise GatewayError(_("Card payments are not configured (STRIPE_API_KEY)."))
        base = {"api": self.api_base} if self.api_base else None
        # Retries are safe: every write carries an idempotency key.
        return stripe.StripeClient(self.api_key, base_addresses=base, max_network_retries=2,
                                   http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS))

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except stripe.StripeError as exc:
            raise GatewayError(_("The card payment provider refused: %(message)s",
                                 message=exc.user_message or str(exc)[:200])) from exc

    def instructions(self, *, amount_fen: int, reference: str) -> dict:
        return {"gateway": self.name, "amount_fen": amount_fen, "reference": reference}

    def create_payment(self, *, amount_fen: int, order_number: str, reference: str,
                       idempotency_key: str) -> PaymentHandle:
        intent = self._call(
            self._client().v1.payment_intents.create,
            params={"amount": amount_fen, "currency": self.currency,
                    "payment_method_types": ["card"], "capture_method": "automatic",
                    "metadata": {"order_number": order_number, "reference": reference}},
            options={"idempotency_key": idempotency_key})
        return PaymentHandle(intent.id, intent.client_secret)

    def refund(self, *, payment_external_id: str, amount_fen: int, idempotency_key: str,
               metadata: dict) -> str:
        refund = self._call(
            self._client().v1.refunds.create,
            params={"payment_intent": payment_external_id, "amount": amount_fen,
                    "metadata": metadata},
            options={"idempotency_key": idempotency_key})
        return refund.id

    def transfer(self, *, amount_fen: int, destination: str, transfer_group: str,
                 idempotency_key: str, metadata: dict) -> str:
        transfer = self._call(
            self._client().v1.transfers.create,
            params={"amount": amount_fen, "currency": self.currency, "destination": destination,
                    "transfer_group": transfer_group, "metadata": metadata},
            options={"idempotency_key": idempotency_key})
        return transfer.id

    def verify_event(self, payload: bytes, signature: str | None) -> dict:
        if not self.webhook_secret:
            raise InvalidSignature("STRIPE_WEBHOOK_SECRET is not configured")
        try:
            # Checks the HMAC over the raw body and the signed timestamp's age.
            stripe.Webhook.construct_event(payload, signature, self.webhook_secret,
                                           tolerance=WEBHOOK_TOLERANCE_SECONDS)
            event = json.loads(payload)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise InvalidSignature(str(exc)) from exc
        if not isinstance(event, dict) or not isinstance(event.get("id"), str) \
                or not isinstance(event.get("type"), str):
            raise InvalidSignature("not a Stripe event")
        return event
