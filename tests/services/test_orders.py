"""Orders on the real database: parties, cancellation through the state table, DB constraints."""
from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from market import db
from market.audit.models import AuditEvent
from market.errors import InvalidState, NotFound, PermissionDenied
from market.listings.models import CapacityReservation
from market.listings.quotes import submit_quote
from market.orders.lifecycle import accept_quote
from market.listings.services import create_request
from market.notifications.models import Notification
from market.orders import lifecycle
from market.orders import services as svc
from market.orders.models import Order, OrderLine
from tests.listing_factories import quote_data, request_data

COUNTED = (Order, OrderLine, CapacityReservation, AuditEvent, Notification)


@pytest.fixture(autouse=True)
def _english():
    with force_locale("en"):
        yield


def counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def refused(exc_type, fn, *args, code=None, **kwargs):
    db.session.commit()
    before = counts()
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    db.session.expire_all()
    assert counts() == before and info.value.message
    if code is not None:
        assert info.value.code == code
    return info.value


@pytest.fixture
def order(generator, operator):
    req = create_request(generator, **request_data())
    quote = submit_quote(operator, req.id, **quote_data())
    return accept_quote(generator, quote.id)


def active_reservation(order) -> CapacityReservation | None:
    return db.session.scalar(select(CapacityReservation).where(
        CapacityReservation.order_id == order.id, CapacityReservation.released_at.is_(None)))


def test_parties_see_the_order_with_their_role(order, generator, operator, admin, finance, other_generator, regulator):
    assert svc.order_for_party(generator, order.id)[1] == "generator"
    assert svc.order_for_party(operator, order.id)[1] == "operator"
    assert svc.order_for_party(admin, order.id)[1] == "admin"
    assert svc.order_for_party(finance, order.id)[1] == "finance"
    for outsider in (other_generator, regulator):
        with pytest.raises(NotFound):
            svc.order_for_party(outsider, order.id)


def test_generator_cancels_and_the_capacity_is_released(order, generator, operator):
    assert active_reservation(order) is not None
    lifecycle.cancel_order(generator, order.id, reason="计划变更")
    assert (order.status, order.cancel_reason) == ("cancelled", "计划变更") and order.cancelled_at
    assert active_reservation(order) is None
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(2)).all()
    assert set(actions) == {"order.cancelled", "capacity.released"}
    assert any(order.number in n.title for n in db.session.scalars(
        select(Notification).where(Notification.user_id == operator.id, Notification.kind == "order.cancelled")))
    refused(InvalidState, lifecycle.cancel_order, generator, order.id, code="invalid_transition")


def test_operator_and_admin_may_cancel_finance_may_not(order, operator, admin, finance):
    refused(PermissionDenied, lifecycle.cancel_order, finance, order.id, code="actor_not_allowed")
    lifecycle.cancel_order(admin, order.id)
    assert order.status == "cancelled"


def test_another_organisation_cannot_cancel(order, other_generator):
    refused(NotFound, lifecycle.cancel_order, other_generator, order.id)
    assert order.status == "contract_pending"


def test_a_new_order_is_routed_at_once(order, generator, operator):
    # not subject to sampling: straight to the contract (system, in the award's transaction)
    assert order.status == "contract_pending"
    routed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "order.routed")).one()
    assert routed.changes == {"status": ["created", "contract_pending"]}
    req = create_request(generator, **request_data())
    sampled = accept_quote(generator, submit_quote(operator, req.id,
                                                   **quote_data(subject_to_sampling=True)).id)
    assert sampled.status == "sampling"


def test_transitions_follow_the_table(order, generator):
    order.status = "created"
    with pytest.raises(InvalidState):
        svc.transition(order, "funded", "generator")
    with pytest.raises(PermissionDenied):
        svc.transition(order, "sampling", "carrier")
    svc.transition(order, "sampling", "generator")
    assert order.status == "sampling"


def test_cancelling_a_funded_order_is_for_admins(order, generator, admin):
    order.status = "funded"
    refused(PermissionDenied, lifecycle.cancel_order, generator, order.id)
    lifecycle.cancel_order(admin, order.id, reason="退款")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "order.cancelled")).one()
    assert event.changes["refund"] is True and event.changes["from"] == "funded"


def _insert_fails(fn):
    db.session.commit()
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            fn()
            db.session.flush()


def test_database_refuses_inconsistent_orders(order):
    bad_line = dict(order_id=order.id, payee_org_id=order.operator_id, quantity_kg=10)
    _insert_fails(lambda: db.session.add(OrderLine(kind="transport", amount_fen=-1, **bad_line)))
    _insert_fails(lambda: db.session.add(OrderLine(kind="disposal", amount_fen=1, **bad_line)))
    _insert_fails(lambda: db.session.add(OrderLine(kind="tip", amount_fen=1, unit_price_fen_per_t=None,
                                                   **bad_line)))
    twin = dict(number="HX-dup", quote_id=order.quote_id, request_id=order.request_id,
                generator_id=order.generator_id, operator_id=order.operator_id,
                licence_item_id=order.licence_item_id, category_code="HW08", quantity_kg=1,
                region_code="440306", address="")
    _insert_fails(lambda: db.session.add(Order(**twin)))                        # one order per quote
    _insert_fails(lambda: db.session.add(Order(**(twin | {"quote_id": None, "number": "HX-x"}))))  # no source
    _insert_fails(lambda: db.session.add(CapacityReservation(licence_item_id=order.licence_item_id,
                                                             year=2026, order_id=order.id, kg=0)))

