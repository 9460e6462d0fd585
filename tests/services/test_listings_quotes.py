"""Quotes and awards on the real database: submit, withdraw, reject, accept, expire."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from market import db
from market.audit.models import AuditEvent
from market.errors import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.listings import quotes as svc
from market.listings.capacity import CapacityExhausted
from market.listings.jobs import expire_listings, expire_quotes, expire_requests
from market.listings.models import CapacityReservation, DisposalRequest, Quote
from market.listings.services import create_request
from market.listings.validation import today
from market.money import line_amount_fen
from market.notifications.models import Notification
from market.orders import lifecycle
from market.orders.models import Order, OrderLine
from tests.factories import LicenceItemFactory, OrganisationFactory, UserFactory
from tests.listing_factories import quote_data, request_data, reservation

COUNTED = (DisposalRequest, Quote, Order, OrderLine, CapacityReservation, AuditEvent, Notification)


@pytest.fixture(autouse=True)
def _english():
    with force_locale("en"):
        yield


def settle() -> None:
    db.session.commit()


def counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def refused(exc_type, fn, *args, code=None, field=None, **kwargs):
    """The use case fails with the right error and code, and changes nothing at all."""
    settle()
    before = counts()
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    db.session.expire_all()
    assert counts() == before
    assert info.value.message
    if code is not None:
        assert info.value.code == code, info.value.message
    if field is not None:
        assert info.value.field == field
    return info.value


def second_operator(**item_kw):
    user = UserFactory(org=OrganisationFactory(types=["operator"], region_code="441302"))
    LicenceItemFactory(licence__org=user.org, **item_kw)
    return user


def inbox(user) -> list[str]:
    """The titles of the user's notifications as read now (English in these tests)."""
    return [n.shown_title for n in db.session.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))]


@pytest.fixture
def request_(generator):
    return create_request(generator, **request_data())


# --- submitting ----------------------------------------------------------------------------------

def test_submit_a_quote_backed_by_the_matching_licence_item(request_, operator, generator):
    quote = svc.submit_quote(operator, request_.id, **quote_data())
    assert (quote.status, quote.operator_id, quote.request_id) == ("submitted", operator.org_id, request_.id)
    assert quote.licence_item_id == operator.org.licences[0].items[0].id
    assert any(request_.number in t for t in inbox(generator))
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.object_type == "quote", AuditEvent.object_id == str(quote.id))) == "quote.submitted"


def test_negative_price_is_allowed(request_, operator):
    quote = svc.submit_quote(operator, request_.id, **quote_data(unit_price_fen_per_t=-80_000))
    assert quote.unit_price_fen_per_t == -80_000


def test_quote_on_a_request_the_operator_does_not_match(request_):
    wrong = second_operator(category_code="HW17", method_codes=["R4"])
    err = refused(PermissionDenied, svc.submit_quote, wrong, request_.id, **quote_data(),
                  code="category_not_covered")
    assert "category" in err.message


def test_quote_refused_when_capacity_is_exhausted(request_):
    full = second_operator(approved_kg_per_year=3_000)
    refused(PermissionDenied, svc.submit_quote, full, request_.id, **quote_data(), code="capacity_exhausted")


def test_quote_refused_outside_the_operators_regions(request_):
    beijing = UserFactory(org=OrganisationFactory(types=["operator"], region_code="110101"))
    LicenceItemFactory(licence__org=beijing.org)
    refused(PermissionDenied, svc.submit_quote, beijing, request_.id, **quote_data(), code="region_not_served")


def test_quote_refused_for_an_unverified_operator(request_, operator):
    operator.org.status = "suspended"
    refused(PermissionDenied, svc.submit_quote, operator, request_.id, **quote_data())


@pytest.mark.parametrize("field,value", [("valid_until", "tomorrow"), ("transport_fee_fen", -1),
                                         ("unit_price_fen_per_t", 1.5), ("note", "x" * 2001)])
def test_quote_fields_are_checked(request_, operator, field, value):
    refused(ValidationFailed, svc.submit_quote, operator, request_.id, **quote_data(**{field: value}),
            field=field)


def test_quote_valid_until_in_the_past(request_, operator):
    refused(ValidationFailed, svc.submit_quote, operator, request_.id, field="valid_until",
            **quote_data(valid_until=today() - timedelta(days=1)))


def test_one_live_quote_per_operator(request_, operator):
    svc.submit_quote(operator, request_.id, **quote_data())
    refused(Conflict, svc.submit_quote, operator, request_.id, **quote_data(), code="quote_exists")


def test_drafts_are_invisible_and_closed_requests_take_no_quotes(generator, operator):
    draft = create_request(generator, publish=False, **request_data())
    refused(NotFound, svc.submit_quote, operator, draft.id, **quote_data())
    refused(NotFound, svc.submit_quote, operator, 10**9, **quote_data())
    open_ = create_request(generator, **request_data())
    open_.status = "cancelled"
    refused(InvalidState, svc.submit_quote, operator, open_.id, **quote_data())


def test_generators_do_not_quote(request_, other_generator):
    refused(PermissionDenied, svc.submit_quote, other_generator, request_.id, **quote_data())


# --- withdrawing and rejecting -------------------------------------------------------------------

def test_withdraw_and_requote(request_, operator, generator):
    quote = svc.submit_quote(operator, request_.id, **quote_data())
    svc.withdraw_quote(operator, quote.id)
    assert quote.status == "withdrawn" and quote.decided_at is not None
    refused(InvalidState, svc.withdraw_quote, operator, quote.id, code="quote_withdrawn")
    again = svc.submit_quote(operator, request_.id, **quote_data(unit_price_fen_per_t=170_000))
    assert again.status == "submitted"


def test_another_operator_cannot_withdraw(request_, operator):
    quote = svc.submit_quote(operator, request_.id, **quote_data())
    refused(NotFound, svc.withdraw_quote, second_operator(), quote.id)


def test_generator_declines_one_quote(request_, operator, generator):
    quote = svc.submit_quote(operator, request_.id, **quote_data())
    svc.reject_quote(generator, quote.id, reason="太贵")
    assert quote.status == "rejected" and request_.status == "open"
    assert any("declined" in t for t in inbox(operator))


# --- accepting -----------------------------------------------------------------------------------

def test_accept_awards_reserves_creates_the_order_and_rejects_the_others(request_, operator, generator):
    rival = second_operator()
    win = svc.submit_quote(operator, request_.id, **quote_data(unit_price_fen_per_t=123_457,
                                                               transport_fee_fen=80_000))
    lose = svc.submit_quote(rival, request_.id, **quote_data(unit_price_fen_per_t=190_000))
    order = lifecycle.accept_quote(generator, win.id)
    assert re.fullmatch(rf"HX{today().year}\d{{6}}", order.number)
    # not subject to sampling, so the new order goes straight to its contract
    assert (order.status, order.quote_id, order.request_id, order.offer_id) == ("contract_pending", win.id, request_.id, None)
    assert (order.generator_id, order.operator_id, order.quantity_kg) == (generator.org_id, operator.org_id, 5_000)
    lines = {ln.kind: ln for ln in order.lines}
    assert set(lines) == {"disposal", "transport"}
    assert lines["disposal"].payee_org_id == operator.org_id
    assert lines["disposal"].amount_fen == line_amount_fen(123_457, 5_000) == 617_285
    assert (lines["transport"].payee_org_id, lines["transport"].amount_fen) == (operator.org_id, 80_000)
    assert lines["transport"].unit_price_fen_per_t is None
    assert (win.status, lose.status, request_.status) == ("accepted", "rejected", "awarded")
    res = db.session.scalar(select(CapacityReservation).where(CapacityReservation.order_id == order.id))
    assert (res.licence_item_id, res.kg, res.year, res.released_at) == \
        (win.licence_item_id, 5_000, request_.window_start.year, None)
    assert any(order.number in t for t in inbox(operator))
    assert any("another operator" in t for t in inbox(rival))
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"order.created", "capacity.reserved", "quote.accepted", "request.awarded",
            "quote.rejected"} <= actions


def test_accept_without_transport_fee_has_one_line_and_negative_prices_stay_negative(request_, operator, generator):
    quote = svc.submit_quote(operator, request_.id, **quote_data(unit_price_fen_per_t=-50_000,
                                                                 transport_fee_fen=0))
    order = lifecycle.accept_quote(generator, quote.id)
    assert [(ln.kind, ln.amount_fen) for ln in order.lines] == [("disposal", -250_000)]


def test_accepting_an_expired_quote(request_, operator, generator):
    quote = svc.submit_quote(operator, request_.id, **quote_data())
    quote.valid_until = today() - timedelta(days=1)
    refused(InvalidState, lifecycle.accept_quote, generator, quote.id, code="quote_expired")
    assert quote.status == "submitted" and request_.status == "open"


def test_accepting_a_withdrawn_quote(request_, operator, generator):
    quote = svc.submit_quote(operator, request_.id, **quote_data())
    svc.withdraw_quote(operator, quote.id)
    refused(InvalidState, lifecycle.accept_quote, generator, quote.id, code="quote_withdrawn")


def test_accepting_twice_is_a_conflict(request_, operator, generator):
    quote = svc.submit_quote(operator, request_.id, **quote_data())
    lifecycle.accept_quote(generator, quote.id)
    refused(Conflict, lifecycle.accept_quote, generator, quote.id, code="quote_accepted")


def test_accepting_another_organisations_quote_is_not_found(request_, operator, other_generator):
    quote = svc.submit_quote(operator, request_.id, **quote_data())
    refused(NotFound, lifecycle.accept_quote, other_generator, quote.id)
    refused(NotFound, svc.reject_quote, other_generator, quote.id)
    refused(PermissionDenied, lifecycle.accept_quote, operator, quote.id)  # operators never accept


def test_accept_refused_when_the_operator_was_suspended_since(request_, operator, generator):
    quote = svc.submit_quote(operator, request_.id, **quote_data())
    operator.org.status = "suspended"
    refused(InvalidState, lifecycle.accept_quote, generator, quote.id, code="org_suspended")


def test_accept_refused_when_other_awards_used_the_capacity(request_, operator, generator):
    quote = svc.submit_quote(operator, request_.id, **quote_data())
    item = operator.org.licences[0].items[0]
    reservation(item, item.approved_kg_per_year - 4_999)
    refused(CapacityExhausted, lifecycle.accept_quote, generator, quote.id, code="capacity_exhausted")


# --- expiry jobs ---------------------------------------------------------------------------------

def test_quotes_expire_after_valid_until(request_, operator):
    quote = svc.submit_quote(operator, request_.id, **quote_data(valid_until=today()))
    assert expire_quotes() == 0
    assert expire_quotes((today() + timedelta(days=1)).isoformat()) == 1
    assert quote.status == "expired"
    assert any(request_.number in t for t in inbox(operator))  # jobs write in Chinese


def test_requests_expire_at_the_end_of_their_window_with_their_quotes(request_, operator, generator):
    quote = svc.submit_quote(operator, request_.id, **quote_data(valid_until=today() + timedelta(days=90)))
    awarded = create_request(generator, **request_data())
    awarded.status = "awarded"
    day_after = (request_.window_end + timedelta(days=1)).isoformat()
    assert expire_requests(request_.window_end.isoformat()) == 0
    assert expire_listings(day_after) == {"quotes": 0, "requests": 1}
    assert (request_.status, quote.status, awarded.status) == ("expired", "expired", "awarded")
    assert sum(request_.number in t for t in inbox(generator)) == 2  # the quote, then the expiry
    assert expire_requests(day_after) == 0  # idempotent
