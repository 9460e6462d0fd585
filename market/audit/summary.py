"""The changes of an audit event as readable lines in the page language (not raw JSON).

"status: funded → in transfer" with the statuses translated, money as ¥, kilograms grouped, dates in
the page's format and organisation ids as names. Keys without a name of their own are shown as
words ("window_start" → "window start").
"""
from __future__ import annotations

import re
from datetime import date

from flask_babel import format_decimal
from flask_babel import gettext as _

from market.web import i18n

# key → msgid of its label (runtime_msgids.py lists them so the catalogues carry them)
KEY_LABELS = {
    "status": "Status", "from": "From", "to": "To", "reason": "Reason", "note": "Note",
    "order": "Order", "order_id": "Order", "order_number": "Order", "number": "Number",
    "kind": "Kind", "category": "Category", "categories": "Categories", "region_code": "Region",
    "reference": "Reference", "method": "Method", "method_code": "Method", "version": "Version",
    "name": "Name", "credit_code": "Unified social credit code", "types": "Types",
    "comment": "Comment", "valid_from": "Valid from", "valid_to": "Valid to",
    "window_start": "Window start", "window_end": "Window end", "waste_code": "Waste code",
    "gateway": "Gateway", "locale": "Language", "address": "Address", "file": "File",
    "org_id": "Organisation name", "payee_org_id": "Payee", "payer_org_id": "Payer",
    "operator_id": "Operator", "generator_id": "Generator", "lab_id": "Laboratory",
    "carrier_org_id": "Carrier", "amount_fen": "Amount", "total_fen": "Total", "fee_fen": "Fee",
    "refunded_fen": "Refunded", "unit_price_fen_per_t": "Unit price per t",
    "transport_fee_fen": "Transport fee", "quantity_kg": "Quantity", "received_kg": "Received",
    "sent_kg": "Sent", "accepted_kg": "Accepted", "weighed_kg": "Weighed", "refused_kg": "Refused",
    "kg": "Quantity", "vehicle_plate": "Vehicle plate", "marked": "Marked", "split": "Split",
}
# object types and the areas that begin action codes → msgid (runtime_msgids.py lists them)
OBJECT_LABELS = {
    "alert": "Oversight alert", "oversight_alert": "Oversight alert", "api_token": "API token",
    "capacity": "Licensed capacity", "capacity_reservation": "Licensed capacity",
    "catalog": "Catalogue", "collection": "Collection", "collection_round": "Collection round",
    "collection_booking": "Booking", "collection_trip": "Collection trip",
    "contract": "Contract", "contract_version": "Contract version",
    "contract_document": "Contract document", "contract_revision": "Contract revision",
    "demo": "Demo", "escrow": "Escrow", "escrow_dispute": "Dispute", "escrow_payout": "Payout",
    "escrow_receipt": "Receipt", "escrow_funding_request": "Funding request",
    "escrow_cancellation": "Cancellation", "escrow_payout_account": "Payout account",
    "escrow_webhook_event": "Card payment event", "escrow_payment": "Card payment",
    "licence": "Licence", "licence_item": "Licence item", "permit": "Permit",
    "manifest": "Manifest", "manifest_discrepancy": "Manifest discrepancy",
    "manifest_provincial_report": "Provincial report", "notification": "Notification",
    "offer": "Offer", "storefront_offer": "Offer", "operator": "Operator", "order": "Order",
    "trade_order": "Order", "order_line": "Order line", "organisation": "Organisation name",
    "price": "Price index", "price_publication": "Price index", "quote": "Quote",
    "reconciliation": "Reconciliation", "recon_import": "Reconciliation",
    "recon_exception": "Reconciliation", "recon_day": "Reconciliation",
    "request": "Request", "disposal_request": "Request", "review": "Review",
    "order_review": "Review", "sampling": "Sampling", "sampling_order": "Sampling",
    "sanction": "Sanction", "oversight_sanction": "Sanction", "settlement": "Settlement",
    "tariff": "Tariff", "government_tariff": "Tariff", "user": "User", "app_user": "User",
    "user_session": "Session", "webhook": "Webhook", "webhook_endpoint": "Webhook",
    "waste_code": "Waste code", "invitation": "Invitation", "org_change_request": "Change request",
}
ORG_KEYS = frozenset({"org_id", "payee_org_id", "payer_org_id", "operator_id", "generator_id",
                      "lab_id", "carrier_org_id"})
CODE_WORD = re.compile(r"[a-z][a-z_]*")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_TEXT = 300


def org_ids(changes: dict) -> set[int]:
    """The organisation ids these changes mention (to look their names up once per page)."""
    found = set()
    for key, value in (changes or {}).items():
        if key in ORG_KEYS:
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, int) and not isinstance(v, bool):
                    found.add(v)
    return found


def key_label(key: str) -> str:
    if key in KEY_LABELS:
        return _(KEY_LABELS[key])
    return key.replace("_", " ")


def value_text(key: str, value, org_names: dict[int, str]) -> str:
    """One value in the page language, formatted by what its key says it is."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(value_text(key, v, org_names) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{key_label(str(k))}: {value_text(str(k), v, org_names)}"
                         for k, v in value.items()) or "—"
    if isinstance(value, int):
        if key in ORG_KEYS:
            return org_names.get(value) or _("organisation %(id)s", id=value)
        if "_fen" in key:
            return i18n.money(value)
        if key.endswith("kg"):
            return f"{format_decimal(value)} kg"
        return format_decimal(value) if abs(value) >= 10_000 and not key.endswith("id") else str(value)
    text = str(value)
    if ISO_DATE.fullmatch(text):
        return i18n.date(date.fromisoformat(text))
    if CODE_WORD.fullmatch(text):
        return i18n.label(text)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def summary(changes: dict | None, org_names: dict[int, str]) -> list[tuple[str, str]]:
    """(label, text) per changed field; a [from, to] pair reads "from → to"."""
    lines = []
    for key, value in (changes or {}).items():
        if isinstance(value, list) and len(value) == 2 and key in ("status", "unit_price_fen_per_t") \
                or (isinstance(value, list) and len(value) == 2 and key.endswith(("_fen", "_kg"))):
            text = f"{value_text(key, value[0], org_names)} → {value_text(key, value[1], org_names)}"
        else:
            text = value_text(key, value, org_names)
        lines.append((key_label(key), text))
    return lines


def object_text(kind: str) -> str:
    """An object type (a table name) or an action's area as a word in the page language."""
    return _(OBJECT_LABELS[kind]) if kind in OBJECT_LABELS else i18n.label(kind)


def action_text(action: str) -> str:
    """An action code as words in the page language: "order.cancelled" → "Order · cancelled"
    (the area as an object word, the rest through the status and operation words)."""
    area, _sep, rest = action.partition(".")
    return " · ".join([object_text(area)] + [i18n.label(part) for part in rest.split(".") if part])
