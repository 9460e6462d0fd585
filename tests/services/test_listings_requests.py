"""Disposal requests on the real database: create, publish, edit, cancel, repost, announce."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from market import db
from market.audit.models import AuditEvent
from market.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.jobs.models import OutboxJob
from market.listings import services as svc
from market.listings.jobs import notify_matched_operators
from market.listings.models import DisposalRequest, Quote
from market.listings.quotes import submit_quote
from market.listings.validation import today
from market.notifications.models import Notification
from tests.factories import LicenceItemFactory, OrganisationFactory, UserFactory
from tests.listing_factories import quote_data, request_data

COUNTED = (DisposalRequest, Quote, AuditEvent, OutboxJob, Notification)


@pytest.fixture(autouse=True)
def _english():
    """Messages are compared in English; the Chinese catalogue is tested once below."""
    with force_locale("en"):
        yield


def settle() -> None:
    """Keep factory rows alive across a failing use case's rollback (see test_accounts.settle)."""
    db.session.commit()


def counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def refused(exc_type, fn, *args, field=None, contains=None, **kwargs):
    """Call a use case that must fail: right error, right field, clear message, nothing changed."""
    settle()
    before = counts()
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    db.session.expire_all()
    assert counts() == before
    if field is not None:
        assert info.value.field == field, info.value.message
    if contains is not None:
        assert contains in info.value.message, info.value.message
    assert info.value.message
    return info.value


def outbox_names() -> list[str]:
    return list(db.session.scalars(select(OutboxJob.name).order_by(OutboxJob.id)))


# --- creating and publishing ---------------------------------------------------------------------

def test_create_publishes_with_number_audit_and_announcement_job(generator):
    generator.org.latitude, generator.org.longitude = 22.67, 113.81
    before = counts()
    req = svc.create_request(generator, **request_data())
    assert re.fullmatch(rf"RQ{today().year}\d{{6}}", req.number)
    assert (req.status, req.generator_id, req.created_by_id) == ("open", generator.org_id, generator.id)
    assert (req.category_code, req.waste_code, req.quantity_kg) == ("HW08", "900-214-08", 5_000)
    assert req.hazards == ["T", "I"] and req.small_lot is False and req.published_at is not None
    assert req.coordinates == (22.67, 113.81)  # picked up at the generator's own site
    after = counts()
    assert after["DisposalRequest"] == before["DisposalRequest"] + 1
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "disposal_request", AuditEvent.object_id == str(req.id))).all()
    assert actions == ["request.created", "request.published"]
    assert outbox_names()[-1] == "market.listings.jobs.notify_matched_operators"


def test_create_as_draft_announces_nothing(generator):
    req = svc.create_request(generator, publish=False, **request_data(region_code="440305"))
    assert req.status == "draft" and req.published_at is None and req.coordinates is None
    assert "market.listings.jobs.notify_matched_operators" not in outbox_names()


def test_publish_a_draft(generator):
    req = svc.create_request(generator, publish=False, **request_data())
    svc.publish_request(generator, req.id)
    assert req.status == "open"
    assert outbox_names()[-1] == "market.listings.jobs.notify_matched_operators"
    refused(InvalidState, svc.publish_request, generator, req.id)


def test_publish_refuses_a_draft_whose_window_has_started(generator):
    req = svc.create_request(generator, publish=False, **request_data())
    req.window_start = today() - timedelta(days=1)
    refused(ValidationFailed, svc.publish_request, generator, req.id, field="window_start")


@pytest.mark.parametrize("kg,small", [(1, True), (1_000, True), (1_001, False)])
def test_small_lot_follows_the_configured_threshold(generator, kg, small):
    assert svc.create_request(generator, **request_data(quantity_kg=kg)).small_lot is small


def test_small_lot_threshold_is_configurable(app, generator, monkeypatch):
    monkeypatch.setitem(app.config, "SMALL_LOT_KG", 2_000)
    assert svc.create_request(generator, **request_data(quantity_kg=1_500)).small_lot is True


# --- bad input is refused with the field and nothing changes -------------------------------------

@pytest.mark.parametrize("quantity", [0, -5, 2.5, "5000", True, None])
def test_quantity_must_be_a_positive_whole_number_of_kg(generator, quantity):
    refused(ValidationFailed, svc.create_request, generator, field="quantity_kg",
            **request_data(quantity_kg=quantity))


def test_zero_quantity_message_is_clear_in_both_languages(generator):
    err = refused(ValidationFailed, svc.create_request, generator, **request_data(quantity_kg=0))
    assert err.message == "Quantity must be more than 0 kg."
    with force_locale("zh_CN"):
        err = refused(ValidationFailed, svc.create_request, generator, **request_data(quantity_kg=0))
    assert err.field == "quantity_kg" and "0" in err.message and err.message != "Quantity must be more than 0 kg."


def test_unknown_waste_code(generator):
    refused(ValidationFailed, svc.create_request, generator, field="waste_code",
            contains="Unknown waste code 999-999-08", **request_data(waste_code="999-999-08"))


def test_code_of_another_category(generator):
    refused(ValidationFailed, svc.create_request, generator, field="waste_code",
            contains="900-252-12 belongs to HW12, not HW08",
            **request_data(category="HW08", waste_code="900-252-12"))


def test_unknown_category(generator):
    refused(ValidationFailed, svc.create_request, generator, field="category",
            **request_data(category="HW99", waste_code=None))


def test_window_in_the_past(generator):
    refused(ValidationFailed, svc.create_request, generator, field="window_start",
            contains="cannot start in the past",
            **request_data(window_start=today() - timedelta(days=1)))


def test_window_ending_before_it_starts(generator):
    start = today() + timedelta(days=5)
    refused(ValidationFailed, svc.create_request, generator, field="window_end",
            **request_data(window_start=start, window_end=start - timedelta(days=1)))


@pytest.mark.parametrize("field,value", [
    ("region_code", "999999"), ("form", "plasma"), ("hazards", ["X"]), ("address", "  "),
    ("method_group", "D99"), ("recurring", "daily"), ("budget_fen", 12.5),
])
def test_other_fields_are_checked(generator, field, value):
    refused(ValidationFailed, svc.create_request, generator, field=field, **request_data(**{field: value}))


def test_status_and_other_unlisted_fields_cannot_be_assigned(generator):
    refused(ValidationFailed, svc.create_request, generator, field="status",
            **request_data(status="awarded"))


def test_unverified_generator_may_not_post(generator):
    generator.org.status = "pending"
    refused(PermissionDenied, svc.create_request, generator, **request_data())


def test_an_operator_only_organisation_may_not_post(operator):
    refused(PermissionDenied, svc.create_request, operator, **request_data())


# --- editing, cancelling, reposting --------------------------------------------------------------

def test_edit_changes_fields_recomputes_small_lot_and_audits_the_diff(generator):
    req = svc.create_request(generator, **request_data())
    svc.edit_request(generator, req.id, quantity_kg=800, description="改为 800 kg")
    assert (req.quantity_kg, req.small_lot, req.description) == (800, True, "改为 800 kg")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "request.edited")).one()
    assert event.changes["quantity_kg"] == [5_000, 800]
    assert event.changes["small_lot"] == [False, True]


def test_edit_refused_while_a_quote_is_live(generator, operator):
    req = svc.create_request(generator, **request_data())
    submit_quote(operator, req.id, **quote_data())
    refused(InvalidState, svc.edit_request, generator, req.id, quantity_kg=6_000)
    assert req.quantity_kg == 5_000


def test_edit_refused_on_a_cancelled_request(generator):
    req = svc.create_request(generator, **request_data())
    svc.cancel_request(generator, req.id)
    refused(InvalidState, svc.edit_request, generator, req.id, quantity_kg=6_000)


def test_edit_refuses_bad_values_and_status(generator):
    req = svc.create_request(generator, **request_data())
    refused(ValidationFailed, svc.edit_request, generator, req.id, quantity_kg=-1, field="quantity_kg")
    refused(ValidationFailed, svc.edit_request, generator, req.id, status="awarded", field="status")


def test_another_organisations_request_is_not_found(generator, other_generator):
    req = svc.create_request(generator, **request_data())
    refused(NotFound, svc.edit_request, other_generator, req.id, quantity_kg=10)
    refused(NotFound, svc.cancel_request, other_generator, req.id)
    refused(NotFound, svc.publish_request, other_generator, req.id)
    assert req.status == "open" and req.quantity_kg == 5_000


def test_cancel_rejects_live_quotes_and_tells_their_operators(generator, operator):
    req = svc.create_request(generator, **request_data())
    quote = submit_quote(operator, req.id, **quote_data())
    svc.cancel_request(generator, req.id, reason="已自行处理")
    assert req.status == "cancelled" and req.closed_at is not None
    assert quote.status == "rejected"
    titles = [n.shown_title for n in db.session.scalars(select(Notification).where(
        Notification.user_id == operator.id))]
    assert any(req.number in t and "cancelled" in t for t in titles)
    refused(InvalidState, svc.cancel_request, generator, req.id)


def test_repost_copies_the_request_with_a_new_window(generator):
    req = svc.create_request(generator, **request_data())
    svc.cancel_request(generator, req.id)
    start = today() + timedelta(days=3)
    new = svc.repost_request(generator, req.id, window_start=start, window_end=start + timedelta(days=9))
    assert new.id != req.id and new.number != req.number and new.status == "open"
    assert (new.waste_code, new.quantity_kg, new.window_start) == (req.waste_code, req.quantity_kg, start)
    refused(InvalidState, svc.repost_request, generator, new.id, window_start=start, window_end=start)


# --- announcing to matched operators -------------------------------------------------------------

def test_announcement_reaches_matched_operators_once_and_honours_preferences(generator, operator):
    elsewhere = UserFactory(org=OrganisationFactory(types=["operator"], region_code="110101"))
    LicenceItemFactory(licence__org=elsewhere.org)  # licensed, but serves Beijing only
    picky = UserFactory(org=OrganisationFactory(types=["operator"], region_code="440605"))
    LicenceItemFactory(licence__org=picky.org)
    svc.set_alert_preferences(picky, categories=["HW17"], region_prefixes=[])
    req = svc.create_request(generator, **request_data())
    assert notify_matched_operators(req.id) == 1
    def inbox(user):
        return db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                             Notification.kind == "request.matched")).all()
    assert len(inbox(operator)) == 1 and req.number in inbox(operator)[0].title
    assert inbox(elsewhere) == [] and inbox(picky) == []
    assert notify_matched_operators(req.id) == 0  # idempotent: a retried job says nothing twice
    assert len(inbox(operator)) == 1


def test_service_areas_replace_the_province_default(generator, operator):
    assert svc.set_service_areas(operator, ["4419", "4403", "4403"]) == ["4419", "4403"]
    req = svc.create_request(generator, **request_data(region_code="440605"))
    assert notify_matched_operators(req.id) == 0  # Foshan is no longer served
    refused(ValidationFailed, svc.set_service_areas, operator, ["4"], field="service_regions")
    refused(ValidationFailed, svc.set_service_areas, operator, ["9999"], field="service_regions")
    refused(PermissionDenied, svc.set_service_areas, generator, ["44"])
