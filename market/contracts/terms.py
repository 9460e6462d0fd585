"""The terms of a contract version, frozen as JSON when the version is created.

A version's PDF is a pure function of its terms (and, for the final copy, its signatures), so a
retried render, or a render long after the parties renamed themselves, produces the same contract.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from market import db
from market.accounts.models import Licence, LicenceItem, Organisation, Permit
from market.catalog.models import WasteCategory
from market.listings.models import DisposalRequest, StorefrontOffer
from market.money import line_amount_fen
from market.orders.models import Order
from market.sampling.analytes import display
from market.sampling.models import SamplingOrder
from market.sampling.queries import result_flags

WEIGHT_TOLERANCE_PCT = 5  # DESIGN.md §5: received vs sent beyond 5 % is a discrepancy
OFFER_WINDOW_DAYS = 30


def _org(org: Organisation) -> dict:
    return {"id": org.id, "name": org.name, "credit_code": org.credit_code or "",
            "address": org.address or "", "region_code": org.region_code}


def _window(order: Order) -> tuple[date, date]:
    """The transfer window: the request's, or for a storefront order its lead time plus 30 days."""
    if order.request_id:
        req = db.session.get(DisposalRequest, order.request_id)
        return req.window_start, req.window_end
    offer = db.session.get(StorefrontOffer, order.offer_id)
    start = order.created_at.date() + timedelta(days=offer.lead_time_days if offer else 0)
    return start, start + timedelta(days=OFFER_WINDOW_DAYS)


def _waste(order: Order) -> dict:
    category = db.session.get(WasteCategory, order.category_code)
    waste = {"category": order.category_code, "category_name": category.name_zh if category else "",
             "code": order.waste_code or "", "description": "", "form": "", "packaging": "",
             "hazards": []}
    if order.request_id:
        req = db.session.get(DisposalRequest, order.request_id)
        waste.update(description=req.description, form=req.form, packaging=req.packaging,
                     hazards=list(req.hazards or []))
    elif order.offer_id:
        offer = db.session.get(StorefrontOffer, order.offer_id)
        waste.update(description=offer.description if offer else "")
    return waste


def _sampling(order: Order) -> dict | None:
    """A summary of the closed sampling test whose results set the price, if there was one."""
    so = db.session.scalar(select(SamplingOrder).where(
        SamplingOrder.order_id == order.id, SamplingOrder.status == "closed")
        .order_by(SamplingOrder.id.desc()).limit(1))
    if so is None:
        return None
    flagged = {f.analyte for f in result_flags(so)}
    permit = db.session.get(Permit, so.permit_id)
    return {"number": so.number, "lab": _org(so.lab), "cma_number": permit.number if permit else "",
            "collected_on": so.collected_on.isoformat() if so.collected_on else "",
            "custody_number": so.custody_number or "", "sampler": so.sampler or "",
            "quoted_price_fen_per_t": so.quoted_price_fen_per_t,
            "confirmed_price_fen_per_t": so.confirmed_price_fen_per_t,
            "results": [{"analyte": r.analyte, "value": display(r.value), "unit": r.unit, "method": r.method, "flagged": r.analyte in flagged}
                        for r in so.results]}


def lines_for(order: Order, quantity_kg: int) -> list[dict]:
    """The order's lines as contract rows, with the disposal amount recomputed for quantity_kg."""
    names = dict(db.session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.id.in_({ln.payee_org_id for ln in order.lines}))).all())
    rows = []
    for ln in order.lines:
        amount = (line_amount_fen(ln.unit_price_fen_per_t, quantity_kg) if ln.kind == "disposal"
                  else ln.amount_fen)
        rows.append({"kind": ln.kind, "payee_org_id": ln.payee_org_id,
                     "payee": names.get(ln.payee_org_id, ""),
                     "unit_price_fen_per_t": ln.unit_price_fen_per_t, "quantity_kg": quantity_kg,
                     "amount_fen": amount})
    return rows


def build_terms(order: Order, number: str, version: int) -> dict:
    """Everything the contract states, read from the order as it is now."""
    item = db.session.get(LicenceItem, order.licence_item_id)
    licence = db.session.get(Licence, item.licence_id)
    start, end = _window(order)
    lines = lines_for(order, order.quantity_kg)
    return {
        "number": number, "version": version, "order_number": order.number,
        "generator": _org(order.generator),
        "operator": {**_org(order.operator), "licence_number": licence.number,
                     "licence_valid_to": licence.valid_to.isoformat(),
                     "operations": list(item.operations), "methods": list(item.method_codes)},
        "waste": _waste(order), "quantity_kg": order.quantity_kg,
        "pickup": {"region_code": order.region_code, "address": order.address},
        "window_start": start.isoformat(), "window_end": end.isoformat(),
        "lines": lines, "total_fen": sum(ln["amount_fen"] for ln in lines),
        "tolerance_pct": WEIGHT_TOLERANCE_PCT, "sampling": _sampling(order),
    }


def revised_terms(terms: dict, changes: dict, version: int) -> dict:
    """The terms of the next version: the same contract with the quantity or window changed."""
    new = {**terms, "version": version}
    if "quantity_kg" in changes:
        kg = changes["quantity_kg"]
        lines = [{**ln, "quantity_kg": kg,
                  "amount_fen": (line_amount_fen(ln["unit_price_fen_per_t"], kg)
                                 if ln["kind"] == "disposal" else ln["amount_fen"])}
                 for ln in terms["lines"]]
        new.update(quantity_kg=kg, lines=lines, total_fen=sum(ln["amount_fen"] for ln in lines))
    for key in ("window_start", "window_end"):
        if key in changes:
            new[key] = changes[key]
    return new
