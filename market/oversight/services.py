"""Oversight use cases: raising 三流合一 alerts (any context may call raise_alert; it imports no
context above it), regulators acknowledging and closing them, sanctions, and credit scores."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from market import db
from market.accounts.models import Organisation, User
from market.audit.services import record
from market.db import utcnow
from market.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.notifications.messages import as_date, message
from market.notifications.services import notify_org
from market.orders.models import Order
from market.oversight import credit, labels, policies, queries
from market.oversight.models import SANCTION_KINDS, SEVERITIES, Alert, CreditScore, Sanction
from market.uow import transaction

# Rule ids of the first set (issue 10); the settlement context adds its own.
MANIFEST_UNFUNDED = "manifest_unfunded_order"
CAPACITY_EXCEEDED = "received_beyond_capacity"
CARRIER_PERMIT = "carrier_permit_invalid"
WEIGHT_DISCREPANCY = "weight_discrepancy"
# The regulator side's sweeps (market/oversight/checks.py, issue 11).
RELEASE_BEFORE_RECEIPT = "release_before_receipt"
THROUGHPUT_BEYOND_LICENCE = "throughput_beyond_licence"
TRANSFER_AFTER_LICENCE_EXPIRY = "transfer_after_licence_expiry"


def raise_alert(rule_id: str, severity: str, *, subject: str, order_id: int | None = None,
                manifest_id: int | None = None, carrier_org_id: int | None = None,
                data: dict[str, Any] | None = None, **parties: Any) -> Alert:
    """Store an alert once per (rule, subject): raising it again returns the first one.

    The order (when given) supplies the generator, the operator and the three regions of the
    regulator scope rule. Runs in the caller's transaction when there is one, else in its own:
    pass it to uow.after_rollback to keep an alert about a refused attempt. Without an order
    (a quote, a storefront price) `parties` may name generator_org_id, operator_org_id and the
    generator_region, pickup_region and operator_region of the scope rule; an alert about an
    operator alone (throughput) names operator_org_id and its region is looked up.
    """
    unknown = set(parties) - {"generator_org_id", "operator_org_id", "generator_region",
                              "pickup_region", "operator_region"}
    if unknown:
        raise TypeError(f"raise_alert got unknown fields {sorted(unknown)}")
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}")
    with transaction() as s:
        order = s.get(Order, order_id) if order_id is not None else None
        values = dict(rule_id=rule_id, subject=subject, severity=severity, status="open",
                      order_id=order_id, manifest_id=manifest_id, carrier_org_id=carrier_org_id,
                      data=data or {}, **parties)
        if order is not None:
            values.update(generator_org_id=order.generator_id, operator_org_id=order.operator_id,
                          generator_region=order.generator.region_code,
                          operator_region=order.operator.region_code,
                          pickup_region=order.region_code)
        elif parties.get("operator_org_id") is not None and "operator_region" not in parties:
            operator = s.get(Organisation, parties["operator_org_id"])
            values.update(operator_region=operator.region_code)
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


# --- regulators' writes: alert notes and sanctions (DESIGN.md §1) --------------------------------

def _regulator_role(actor: User) -> str:
    if actor.is_regulator:
        return "regulator"
    if actor.platform_role == "admin":
        return "admin"
    raise PermissionDenied(_("Only regulators handle alerts and sanctions."))


def update_alert(actor: User, alert_id: int, status: object, note: object) -> Alert:
    """Acknowledge an alert, or close it with a note; audited. Another region's alert is a 404."""
    role = _regulator_role(actor)
    with transaction():
        alert = queries.visible_alert(queries.prefix_of(actor), alert_id, lock=True)
        if status not in ("acknowledged", "closed"):
            raise ValidationFailed(_("status must be acknowledged or closed."), field="status")
        text_ = note.strip() if isinstance(note, str) else ""
        if note is not None and not isinstance(note, str):
            raise ValidationFailed(_("note must be text."), field="note")
        if len(text_) > policies.NOTE_MAX:
            raise ValidationFailed(_("note is longer than %(max)s characters.",
                                     max=policies.NOTE_MAX), field="note")
        if status == "closed" and not text_:
            raise ValidationFailed(_("Closing an alert needs a note saying why."), field="note")
        issue = policies.alert_problem(alert.status, status, role)
        if issue:
            raise InvalidState(_("An alert that is %(frm)s cannot become %(to)s.",
                                 frm=labels.alert_status_label(alert.status),
                                 to=labels.alert_status_label(status)), code=issue)
        before = alert.status
        alert.status, alert.updated_by_id, alert.updated_at = status, actor.id, utcnow()
        if text_:
            alert.note = text_
        record(f"alert.{status}", alert, actor=actor,
               changes={"status": [before, status], "note": text_})
        return alert


def _parse_day(value: object, field: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationFailed(_("%(field)s must be a date (YYYY-MM-DD).", field=field), field=field)


def impose_sanction(actor: User, org_id: object, kind: object, reason: object, valid_from: object,
                    valid_to: object) -> Sanction:
    """Blacklist an organisation of the regulator's region from valid_from to valid_to."""
    if not actor.is_regulator:
        raise PermissionDenied(_("Only a regulator of the organisation's region imposes sanctions."))
    with transaction():
        if type(org_id) is not int:
            raise ValidationFailed(_("org_id must be an organisation's id."), field="org_id")
        org = db.session.get(Organisation, org_id, with_for_update=True)
        if org is None or org.kind != "enterprise" or \
                not org.region_code.startswith(actor.org.scope_prefix or "-"):
            raise NotFound(_("No such organisation in your region."))
        if kind not in SANCTION_KINDS:
            raise ValidationFailed(_("kind must be blacklist."), field="kind")
        text_ = reason.strip() if isinstance(reason, str) else ""
        if not text_:
            raise ValidationFailed(_("Give the reason for the sanction."), field="reason")
        if len(text_) > policies.REASON_MAX:
            raise ValidationFailed(_("reason is longer than %(max)s characters.",
                                     max=policies.REASON_MAX), field="reason")
        start, end = _parse_day(valid_from, "valid_from"), _parse_day(valid_to, "valid_to")
        if end < start:
            raise ValidationFailed(_("valid_to must not be before valid_from."), field="valid_to")
        if (end - start).days > policies.MAX_SANCTION_DAYS:
            raise ValidationFailed(_("A sanction lasts at most five years."), field="valid_to")
        if end < date.today():
            raise ValidationFailed(_("valid_to is in the past."), field="valid_to")
        sanction = Sanction(org_id=org.id, kind=kind, reason=text_, valid_from=start,
                            valid_to=end, regulator_org_id=actor.org_id, created_by_id=actor.id)
        db.session.add(sanction)
        db.session.flush()
        record("sanction.imposed", sanction, actor=actor, changes={
            "org_id": org.id, "kind": kind, "reason": text_, "valid_from": start.isoformat(),
            "valid_to": end.isoformat()})
        notify_org(org.id, "sanction.imposed",
                   message("%(regulator)s blacklisted your organisation from %(start)s to %(end)s: "
                           "%(reason)s", regulator=actor.org.name, start=as_date(start),
                           end=as_date(end), reason=text_))
        _store_credit(org.id)
        return sanction


def _store_credit(org_id: int) -> CreditScore:
    """Recompute and store the organisation's score (inside the caller's transaction)."""
    facts = credit.facts_of(org_id, date.today())
    score, _lost = credit.score_of(facts)
    row = db.session.get(CreditScore, org_id)
    if row is None:
        row = CreditScore(org_id=org_id)
        db.session.add(row)
    row.score, row.components, row.computed_at = score, credit.components_json(facts), utcnow()
    org = db.session.get(Organisation, org_id)
    org.credit_score = score
    db.session.flush()
    return row


def recompute_credit(org_id: int) -> CreditScore:
    """Recompute one organisation's credit score (an event touched it)."""
    with transaction():
        return _store_credit(org_id)


def recompute_all_credit() -> int:
    """Every enterprise's score (the quarterly run); one transaction per organisation."""
    ids = list(db.session.scalars(select(Organisation.id).where(Organisation.kind == "enterprise")
                                  .order_by(Organisation.id)))
    for org_id in ids:
        recompute_credit(org_id)
    return len(ids)
