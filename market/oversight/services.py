"""Raising 三流合一 alerts. Any context may call raise_alert; it imports no context above it."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from market import db
from market.audit.services import record
from market.orders.models import Order
from market.oversight.models import SEVERITIES, Alert
from market.uow import transaction

# Rule ids of the first set (issue 10); the settlement context adds its own.
MANIFEST_UNFUNDED = "manifest_unfunded_order"
CAPACITY_EXCEEDED = "received_beyond_capacity"
CARRIER_PERMIT = "carrier_permit_invalid"
WEIGHT_DISCREPANCY = "weight_discrepancy"


def raise_alert(rule_id: str, severity: str, *, subject: str, order_id: int | None = None,
                manifest_id: int | None = None, carrier_org_id: int | None = None,
                data: dict[str, Any] | None = None) -> Alert:
    """Store an alert once per (rule, subject): raising it again returns the first one.

    The order (when given) supplies the generator, the operator and the three regions of the
    regulator scope rule. Runs in the caller's transaction when there is one, else in its own:
    pass it to uow.after_rollback to keep an alert about a refused attempt.
    """
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}")
    with transaction() as s:
        order = s.get(Order, order_id) if order_id is not None else None
        values = dict(rule_id=rule_id, subject=subject, severity=severity, status="open",
                      order_id=order_id, manifest_id=manifest_id, carrier_org_id=carrier_org_id,
                      data=data or {})
        if order is not None:
            values.update(generator_org_id=order.generator_id, operator_org_id=order.operator_id,
                          generator_region=order.generator.region_code,
                          operator_region=order.operator.region_code,
                          pickup_region=order.region_code)
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
