"""Background jobs of listings: announcing new requests, and the daily expiry of requests and quotes."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from market import db
from market.audit.services import record
from market.db import utcnow
from market.jobs import job
from market.listings.models import AlertPreference, DisposalRequest, Quote
from market.listings.queries import matches
from market.listings.validation import today
from market.notifications.messages import as_kg, message, verbatim
from market.notifications.services import notify_org
from market.uow import transaction


def _wants(pref: AlertPreference | None, req: DisposalRequest) -> bool:
    if pref is None:
        return True
    if pref.categories and req.category_code not in pref.categories:
        return False
    return not pref.region_prefixes or any(req.region_code.startswith(p) for p in pref.region_prefixes)


@job(queue="notifications")
def notify_matched_operators(request_id: int) -> int:
    """Tell the operators matching a newly opened request about it (once; honours preferences)."""
    with transaction():
        req = db.session.scalar(select(DisposalRequest).where(DisposalRequest.id == request_id)
                                .with_for_update())
        if req is None or req.status != "open" or req.operators_notified_at is not None:
            return 0
        qualified, _excluded = matches(req)
        ids = [m.operator_id for m in qualified]
        prefs = {p.org_id: p for p in db.session.scalars(
            select(AlertPreference).where(AlertPreference.org_id.in_(ids)))} if ids else {}
        told = []
        title = message("New request %(number)s: %(kg)s kg of %(category)s in %(region)s",
                        number=req.number, kg=as_kg(req.quantity_kg), category=req.category_code,
                        region=req.region_code)
        for m in qualified:
            if _wants(prefs.get(m.operator_id), req):
                notify_org(m.operator_id, "request.matched", title, verbatim(req.description[:500]),
                           link=f"/requests/{req.id}")
                told.append(m.operator_id)
        req.operators_notified_at = utcnow()
        record("request.operators_notified", req, changes={"operators": told})
        return len(told)


def _expire_quote(quote: Quote, why: str) -> None:
    quote.status, quote.decided_at = "expired", utcnow()
    record("quote.expired", quote, changes={"why": why})
    title = message("Your quote on request %(number)s has expired.", number=quote.request.number)
    notify_org(quote.operator_id, "quote.expired", title, link=f"/requests/{quote.request_id}")


@job(queue="default")
def expire_requests(on: str | None = None) -> int:
    """Expire draft and open requests whose window ended before today, with their live quotes."""
    day = date.fromisoformat(on) if on else today()
    ids = db.session.scalars(select(DisposalRequest.id).where(
        DisposalRequest.status.in_(("draft", "open")), DisposalRequest.window_end < day)
        .order_by(DisposalRequest.id)).all()
    done = 0
    for request_id in ids:
        # One transaction per request: a failure leaves the others expired and the job retryable.
        with transaction():
            req = db.session.scalar(select(DisposalRequest).where(DisposalRequest.id == request_id)
                                    .with_for_update().execution_options(populate_existing=True))
            if req.status not in ("draft", "open") or req.window_end >= day:
                continue
            frm, req.status, req.closed_at = req.status, "expired", utcnow()
            record("request.expired", req, changes={"status": [frm, "expired"]})
            for quote in db.session.scalars(select(Quote).where(
                    Quote.request_id == req.id, Quote.status == "submitted")
                    .order_by(Quote.id).with_for_update()):
                _expire_quote(quote, "request_expired")
            if frm == "open":
                title = message("Request %(number)s expired at the end of its window without an "
                                "award.", number=req.number)
                notify_org(req.generator_id, "request.expired", title, link=f"/requests/{req.id}")
            done += 1
    return done


@job(queue="default")
def expire_quotes(on: str | None = None) -> int:
    """Expire live quotes whose valid_until is before today."""
    day = date.fromisoformat(on) if on else today()
    rows = db.session.execute(select(Quote.id, Quote.request_id).where(
        Quote.status == "submitted", Quote.valid_until < day).order_by(Quote.id)).all()
    done = 0
    for quote_id, request_id in rows:
        with transaction():
            # Request first, then quote: the lock order of listings/quotes.py.
            db.session.execute(select(DisposalRequest.id).where(DisposalRequest.id == request_id)
                               .with_for_update())
            quote = db.session.scalar(select(Quote).where(Quote.id == quote_id).with_for_update()
                                      .execution_options(populate_existing=True))
            if quote.status != "submitted" or quote.valid_until >= day:
                continue
            _expire_quote(quote, "valid_until_passed")
            done += 1
    return done


@job(queue="default")
def expire_listings(on: str | None = None) -> dict:
    """The daily job: expire quotes past their validity, then requests past their window."""
    return {"quotes": expire_quotes(on), "requests": expire_requests(on)}
