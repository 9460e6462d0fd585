"""Words for oversight's ids in the user's language: alert rules, severities, credit components."""
from __future__ import annotations

from flask_babel import gettext as _


def rule_label(rule_id: str) -> str:
    labels = {
        "manifest_unfunded_order": lambda: _("Material without money: waste moved for an order never funded"),
        "release_before_receipt": lambda: _("Money without material: released before the waste was received"),
        "received_beyond_capacity": lambda: _("Received beyond the licence item's approved capacity"),
        "throughput_beyond_licence": lambda: _("Throughput beyond 1.2 times the licensed annual scale"),
        "transfer_after_licence_expiry": lambda: _("Transfer after licence expiry"),
        "carrier_permit_invalid": lambda: _("Carrier permit missing or expired"),
        "weight_discrepancy": lambda: _("Received weight differs from sent weight"),
        "settled_amount_mismatch": lambda: _("Settled amount differs from unit price × accepted kg"),
    }
    fn = labels.get(rule_id)
    return fn() if fn else rule_id


def severity_label(severity: str) -> str:
    labels = {"info": lambda: _("info"), "warning": lambda: _("warning"),
              "critical": lambda: _("critical")}
    fn = labels.get(severity)
    return fn() if fn else severity


def alert_status_label(status: str) -> str:
    labels = {"open": lambda: _("awaiting action"), "acknowledged": lambda: _("acknowledged"),
              "closed": lambda: _("closed")}
    fn = labels.get(status)
    return fn() if fn else status


def component_label(component: str) -> str:
    labels = {
        "late_pickups": lambda: _("Late pickups"),
        "discrepancies": lambda: _("Weight discrepancies"),
        "disputes_lost": lambda: _("Disputes lost"),
        "late_payments": lambda: _("Late payments"),
        "sanctions": lambda: _("Regulators' sanctions"),
    }
    fn = labels.get(component)
    return fn() if fn else component
