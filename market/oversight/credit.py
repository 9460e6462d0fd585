"""Credit scores: what an organisation's platform behaviour and regulators' sanctions cost it.

score = 100 − the points of each component, floored at 0 (one table, shown on profiles):

- late_pickups: manifests it sends or carries that left more than a day after the planned
  pickup: round(20 × late / shipped), at most 20;
- discrepancies: discrepancies on waste it sent, 3 points each, at most 15;
- disputes_lost: resolved disputes of its orders that awarded it nothing, 5 each, at most 20;
- late_payments: funding it paid more than 7 days after it was asked (or has not paid after
  7 days), 4 each, at most 20;
- sanctions: 50 for each sanction in force, 10 for each ended in the last three years.

`score_of` is pure; `facts_of` reads the facts in SQL. Recomputed on events (a sanction, a
settlement, a dispute resolved) by market.oversight.services.recompute_credit, and for every
organisation each quarter by the daily oversight job.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select

from market import db
from market.escrow.dispute_models import Dispute
from market.escrow.models import FundingRequest
from market.manifests.models import Discrepancy, Manifest
from market.orders.models import Order
from market.oversight.models import Sanction

LATE_PICKUP_GRACE = timedelta(days=1)
LATE_PAYMENT_DAYS = 7
COMPONENTS = ("late_pickups", "discrepancies", "disputes_lost", "late_payments", "sanctions")


@dataclass(frozen=True)
class CreditFacts:
    shipped: int = 0
    late_pickups: int = 0
    discrepancies: int = 0
    disputes_lost: int = 0
    late_payments: int = 0
    sanctions_in_force: int = 0
    sanctions_ended: int = 0


def score_of(f: CreditFacts) -> tuple[int, dict[str, int]]:
    """(score, points lost per component) for the facts."""
    lost = {
        "late_pickups": min(20, round(20 * f.late_pickups / f.shipped)) if f.shipped else 0,
        "discrepancies": min(15, 3 * f.discrepancies),
        "disputes_lost": min(20, 5 * f.disputes_lost),
        "late_payments": min(20, 4 * f.late_payments),
        "sanctions": 50 * f.sanctions_in_force + 10 * f.sanctions_ended,
    }
    return max(0, 100 - sum(lost.values())), lost


def facts_of(org_id: int, today: date) -> CreditFacts:
    s = db.session
    shipped = s.execute(select(
        func.count(), func.count().filter(Manifest.shipped_at > Manifest.planned_pickup_at
                                          + LATE_PICKUP_GRACE))
        .where(or_(Manifest.generator_org_id == org_id, Manifest.carrier_org_id == org_id),
               Manifest.shipped_at.is_not(None))).one()
    discrepancies = s.scalar(select(func.count()).select_from(Discrepancy)
                             .join(Manifest, Manifest.id == Discrepancy.manifest_id)
                             .where(Manifest.generator_org_id == org_id)) or 0
    lost = 0
    for split in s.scalars(select(Dispute.split).join(Order, Order.id == Dispute.order_id).where(
            Dispute.status == "resolved", Dispute.split.is_not(None),
            or_(Order.generator_id == org_id, Order.operator_id == org_id))):
        if not int((split or {}).get(str(org_id), 0) or 0):
            lost += 1
    late_cut = func.now() - timedelta(days=LATE_PAYMENT_DAYS)
    late_payments = s.scalar(select(func.count()).select_from(FundingRequest).where(
        FundingRequest.payer_org_id == org_id,
        or_(FundingRequest.paid_at > FundingRequest.created_at + timedelta(days=LATE_PAYMENT_DAYS),
            and_(FundingRequest.status == "open", FundingRequest.created_at < late_cut)))) or 0
    in_force = s.scalar(select(func.count()).select_from(Sanction).where(
        Sanction.org_id == org_id, Sanction.valid_from <= today, Sanction.valid_to >= today)) or 0
    ended = s.scalar(select(func.count()).select_from(Sanction).where(
        Sanction.org_id == org_id, Sanction.valid_to < today,
        Sanction.valid_to >= today - timedelta(days=3 * 365))) or 0
    return CreditFacts(shipped=shipped[0], late_pickups=shipped[1], discrepancies=discrepancies,
                       disputes_lost=lost, late_payments=late_payments,
                       sanctions_in_force=in_force, sanctions_ended=ended)


def components_json(f: CreditFacts) -> dict:
    score, lost = score_of(f)
    return {"score": score, "lost": lost, "facts": asdict(f)}
