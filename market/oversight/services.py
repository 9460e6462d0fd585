"""Raising 三流合一 alerts. Any context may call raise_alert; it imports no context above it."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from market import db
from market.audit.services import record
from market.oversight.models import SEVERITIES, Alert
from market.uow import transaction

# Rule ids of the first set (issue 10); the settlement context adds its own.
MANIFEST_UNFUNDED = "manifest_unfunded_order"
CAPACITY_EXCEEDED = "received_beyond_capacity"
CARRIER_PERMIT = "carrier_permit_invalid"
WEIGHT_DISCREPANCY = "weight_discrepancy"


def raise_alert(rule_id: str, severity: str, *, subject: str, order=None, manifest=None,
                generator=None, operator=None, carrier=None, pickup_region: str | None = None,
                data: dict[str, Any] | None = None) -> Alert:
    """Store an alert once per (rule, subject): raising it again returns the first one.

    Runs in the caller's transaction when there is one, else in its own; call it after a refused
    use case has rolled back to keep the alert about the refusal.
    """
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}")
    generator = generator or (order.generator if order is not None else None)
    operator = operator or (order.operator if order is not None else None)
    if pickup_region is None and order is not None:
        pickup_region = order.region_code
    values = dict(
        rule_id=rule_id, subject=subject, severity=severity, status="open",
        order_id=getattr(order, "id", None), manifest_id=getattr(manifest, "id", None),
        generator_org_id=getattr(generator, "id", None),
        operator_org_id=getattr(operator, "id", None),
        carrier_org_id=getattr(carrier, "id", None),
        generator_region=getattr(generator, "region_code", None),
        operator_region=getattr(operator, "region_code", None),
        pickup_region=pickup_region, data=data or {})
    with transaction() as s:
        new_id = s.execute(insert(Alert).values(**values)
                           .on_conflict_do_nothing(constraint="uq_oversight_alert_rule_subject")
                           .returning(Alert.id)).scalar()
        alert = s.execute(select(Alert).where(Alert.rule_id == rule_id,
                                              Alert.subject == subject)).scalar_one()
        if new_id is not None:
            record("alert.raised", alert, changes={"rule_id": rule_id, "severity": severity,
                                                   "subject": subject})
    return alert


def alerts_for(*, rule_id: str | None = None, order_id: int | None = None,
               manifest_id: int | None = None) -> list[Alert]:
    q = select(Alert).order_by(Alert.id)
    if rule_id:
        q = q.where(Alert.rule_id == rule_id)
    if order_id:
        q = q.where(Alert.order_id == order_id)
    if manifest_id:
        q = q.where(Alert.manifest_id == manifest_id)
    return list(db.session.scalars(q))
