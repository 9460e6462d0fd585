"""POST/GET /api/v1/requests on the real database: creation, visibility, lists and bad input.

Also holds the helpers the other marketplace API tests import (post(), counts(), refused()).
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market import db
from market.api.models import IdempotencyRecord
from market.audit.models import AuditEvent
from market.listings.models import (CapacityReservation, DisposalRequest, Quote, StorefrontOffer)
from market.listings.quotes import submit_quote
from market.listings.services import create_request
from market.listings.validation import today
from market.notifications.models import Notification
from market.orders.models import Order, OrderLine
from tests.api.conftest import bearer, error_of
from tests.factories import (LicenceItemFactory, OrganisationFactory, RegulatorOrgFactory,
                             UserFactory)
from tests.listing_factories import quote_data, request_data

API = "/api/v1"
COUNTED = (DisposalRequest, Quote, Order, OrderLine, CapacityReservation, StorefrontOffer,
           AuditEvent, Notification, IdempotencyRecord)


# --- helpers shared by the marketplace API tests ----------------------------------------------------

def counts() -> dict[str, int]:
    db.session.expire_all()
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def headers_for(user, key: str | None = None) -> dict[str, str]:
    """Bearer headers (issuing a token writes an audit event: do it before counting rows)."""
    headers = bearer(user)
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def post(client, user, path: str, json=None, *, key: str | None = None, headers=None, **kwargs):
    return client.post(API + path, json=json, headers=headers or headers_for(user, key), **kwargs)


def get(client, user, path: str, **kwargs):
    return client.get(API + path, headers=bearer(user), **kwargs)


def refused(client, user, path: str, json=None, *, status: int = 422, field: str | None = None,
            code: str | None = None, **kwargs) -> dict:
    """POST is refused with the status (and field, code) and changes nothing at all."""
    key = kwargs.pop("key", None)
    headers = headers_for(user, key)
    db.session.commit()
    before = counts()
    resp = post(client, user, path, json, headers=headers, **kwargs)
    assert resp.status_code == status, resp.get_data(as_text=True)
    err = error_of(resp)
    if field is not None:
        assert err.get("field") == field, err
    if code is not None:
        assert err["code"] == code, err
    if key is not None:
        before["IdempotencyRecord"] += 1  # the refusal itself is kept, to be replayed
    assert counts() == before
    return err


def day(days: int) -> str:
    return (today() + timedelta(days=days)).isoformat()


def request_body(**overrides) -> dict:
    """A valid JSON body for POST /requests."""
    body = dict(category="HW08", waste_code="900-214-08", description="废矿物油，200 L 铁桶装",
                form="liquid", packaging="200 L 铁桶", hazards=["T", "I"], quantity_kg=5_000,
                region_code="440306", address="深圳市宝安区测试路1号", window_start=day(7),
                window_end=day(37), method_group="R", requires_sampling=False,
                budget_fen=2_000_000, recurring="none")
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def open_request(generator, **overrides) -> DisposalRequest:
    return create_request(generator, **request_data(**overrides))


def operator_user(region="441302", **item_kw):
    """A verified operator with one licence item (HW08 by default), serving its own province."""
    user = UserFactory(org=OrganisationFactory(types=["operator"], region_code=region))
    LicenceItemFactory(licence__org=user.org, **item_kw)
    return user


# --- creating ---------------------------------------------------------------------------------------

def test_post_request_opens_it_and_get_shows_every_field(client, generator, operator):
    resp = post(client, generator, "/requests", request_body())
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"id", "number", "status"} and body["status"] == "open"
    assert body["number"].startswith(f"RQ{today().year}")
    req = db.session.get(DisposalRequest, body["id"])
    assert (req.generator_id, req.created_by_id, req.quantity_kg) == (generator.org_id, generator.id, 5_000)

    got = get(client, generator, f"/requests/{body['id']}")
    assert got.status_code == 200
    detail = got.get_json()
    assert detail["id"] == body["id"] and detail["number"] == body["number"]
    assert detail["category"] == "HW08" and detail["waste_code"] == "900-214-08"
    assert detail["quantity_kg"] == 5_000 and isinstance(detail["quantity_kg"], int)
    assert detail["window_start"] == day(7) and detail["window_end"] == day(37)
    assert detail["hazards"] == ["T", "I"] and detail["budget_fen"] == 2_000_000
    assert detail["form"] == "liquid" and detail["method_group"] == "R"
    assert detail["requires_sampling"] is False and detail["small_lot"] is False
    assert detail["generator_id"] == generator.org_id and detail["quotes"] == []


def test_optional_fields_may_be_left_out(client, generator):
    body = request_body(waste_code=..., hazards=..., method_group=..., requires_sampling=...,
                        budget_fen=..., recurring=...)
    resp = post(client, generator, "/requests", body)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    req = db.session.get(DisposalRequest, resp.get_json()["id"])
    assert (req.waste_code, req.hazards, req.method_group, req.budget_fen, req.recurring,
            req.requires_sampling) == (None, [], None, None, "none", False)


def test_a_small_quantity_is_a_small_lot(client, generator):
    resp = post(client, generator, "/requests", request_body(quantity_kg=600))
    assert get(client, generator, f"/requests/{resp.get_json()['id']}").get_json()["small_lot"] is True


@pytest.mark.parametrize("value", [0, -5, 1.5, 5000.0, "5000", True, None, [5000],
                                   1_000_000_001])
def test_bad_quantity_is_422_and_changes_nothing(client, generator, value):
    err = refused(client, generator, "/requests", request_body(quantity_kg=value), field="quantity_kg")
    assert "quantity_kg" in err["message"]


@pytest.mark.parametrize("field,value", [
    ("category", "HW99"),                         # unknown category
    ("category", 8),                              # not a string
    ("waste_code", "999-999-99"),                 # unknown code
    ("region_code", "999999"),                    # unknown region
    ("form", "plasma"),
    ("window_start", "2026/01/01"),               # not ISO 8601
    ("window_end", day(3)),                       # ends before it starts
    ("hazards", ["X"]),
    ("hazards", "T"),                             # not an array
    ("method_group", "R9"),
    ("recurring", "daily"),
    ("budget_fen", 10.5),
    ("requires_sampling", "yes"),
    ("description", ""),
    ("address", None),
])
def test_bad_field_is_422_naming_it_and_changes_nothing(client, generator, field, value):
    refused(client, generator, "/requests", request_body(**{field: value}), field=field)


def test_waste_code_of_another_category_is_refused(client, generator):
    # 900-214-08 is a code of HW08 (waste mineral oil), not of HW06 (organic solvents).
    err = refused(client, generator, "/requests", request_body(category="HW06"), field="waste_code")
    assert "HW08" in err["message"]


def test_window_in_the_past_is_refused(client, generator):
    err = refused(client, generator, "/requests", request_body(window_start=day(-1)),
                  field="window_start")
    assert today().isoformat() in err["message"]


def test_status_and_other_unknown_fields_cannot_be_set(client, generator):
    refused(client, generator, "/requests", request_body(status="awarded"), field="status")
    refused(client, generator, "/requests", request_body(generator_id=1), field="generator_id")


@pytest.mark.parametrize("data", [b"", b"not json", b"[1]"])
def test_non_json_body_is_400(client, generator, data):
    headers = bearer(generator)
    db.session.commit()
    before = counts()
    resp = client.post(f"{API}/requests", data=data, content_type="application/json",
                       headers=headers)
    assert resp.status_code == 400 and error_of(resp)["code"] == "bad_request"
    assert counts() == before


def test_refusal_with_a_key_is_stored_and_replayed_without_effect(client, generator):
    first = post(client, generator, "/requests", request_body(quantity_kg=0), key="bad")
    assert first.status_code == 422
    again = post(client, generator, "/requests", request_body(quantity_kg=0), key="bad")
    assert again.status_code == 422 and again.headers["Idempotent-Replayed"] == "true"
    assert counts()["DisposalRequest"] == 0


def test_the_same_key_posts_one_request(client, generator):
    first = post(client, generator, "/requests", request_body(), key="rq-1")
    again = post(client, generator, "/requests", request_body(), key="rq-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert counts()["DisposalRequest"] == 1


def test_only_verified_generators_post(client, operator):
    refused(client, operator, "/requests", request_body(), status=403)
    pending = UserFactory(org=OrganisationFactory(types=["generator"], status="pending"))
    refused(client, pending, "/requests", request_body(), status=403, code="org_not_verified")


def test_regulators_cannot_post(client, regulator):
    refused(client, regulator, "/requests", request_body(), status=403, code="permission_denied")


# --- who sees a request -------------------------------------------------------------------------------

def test_another_organisations_request_is_404(client, generator, other_generator):
    req = open_request(generator)
    for path in (f"/requests/{req.id}", f"/requests/{req.id}/matches", "/requests/999999",
                 "/requests/99999999999999999999"):
        resp = get(client, other_generator, path)
        assert resp.status_code == 404, path
        assert error_of(resp)["code"] == "not_found"


def test_an_operator_sees_an_open_request_it_matches_but_not_others(client, generator, operator):
    req = open_request(generator)
    assert get(client, operator, f"/requests/{req.id}").status_code == 200
    beijing = operator_user(region="110101")  # does not serve Guangdong
    assert get(client, beijing, f"/requests/{req.id}").status_code == 404
    draft = create_request(generator, publish=False, **request_data())
    assert get(client, operator, f"/requests/{draft.id}").status_code == 404


def test_an_operator_sees_only_its_own_quotes(client, generator, operator):
    req = open_request(generator)
    rival = operator_user()
    mine = submit_quote(operator, req.id, **quote_data())
    theirs = submit_quote(rival, req.id, **quote_data(unit_price_fen_per_t=170_000))
    seen = get(client, operator, f"/requests/{req.id}").get_json()["quotes"]
    assert [q["id"] for q in seen] == [mine.id]
    everyone = get(client, generator, f"/requests/{req.id}").get_json()["quotes"]
    # Cheapest total first: 170 000 fen/t × 5 t + 50 000 transport.
    assert [q["id"] for q in everyone] == [theirs.id, mine.id]
    assert everyone[0]["total_fen"] == 170_000 * 5 + 50_000
    assert everyone[0]["operator_name"] == rival.org.name and everyone[0]["status"] == "submitted"


def test_regulators_see_requests_of_their_region_only(client, generator, regulator):
    req = open_request(generator)  # pickup in 440306, inside 4403
    assert get(client, regulator, f"/requests/{req.id}").status_code == 200
    elsewhere = UserFactory(org=RegulatorOrgFactory(scope_prefix="4406", region_code="440600"))
    assert get(client, elsewhere, f"/requests/{req.id}").status_code == 404


def test_platform_staff_see_any_request(client, generator, admin):
    req = open_request(generator)
    assert get(client, admin, f"/requests/{req.id}").status_code == 200


# --- lists ----------------------------------------------------------------------------------------------

def ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"items", "next"}
    return [item["id"] for item in body["items"]]


def test_generators_list_their_own_requests_newest_first(client, generator, other_generator):
    a, b = open_request(generator), open_request(generator)
    c = open_request(generator)
    c.status = "cancelled"
    db.session.commit()
    open_request(other_generator)
    assert ids(get(client, generator, "/requests")) == [c.id, b.id, a.id]
    assert ids(get(client, generator, "/requests?status=open")) == [b.id, a.id]
    assert ids(get(client, generator, "/requests?status=cancelled")) == [c.id]
    # Page by page, following `next`.
    first = get(client, generator, "/requests?limit=2").get_json()
    assert [i["id"] for i in first["items"]] == [c.id, b.id] and first["next"]
    rest = get(client, generator, f"/requests?limit=2&cursor={first['next']}").get_json()
    assert [i["id"] for i in rest["items"]] == [a.id] and rest["next"] is None


def test_operators_list_the_open_requests_they_match(client, generator, operator, other_generator):
    mine = open_request(generator)
    other = open_request(other_generator)
    open_request(generator, category="HW17", waste_code=None)  # no licence for it
    open_request(generator, quantity_kg=2_000_000)             # beyond the approved capacity
    closed = open_request(generator)
    closed.status = "cancelled"
    db.session.commit()
    assert ids(get(client, operator, "/requests")) == [other.id, mine.id]
    assert ids(get(client, operator, "/requests?status=cancelled")) == []
    page = get(client, operator, "/requests?limit=1").get_json()
    assert [i["id"] for i in page["items"]] == [other.id]
    assert ids(get(client, operator, f"/requests?limit=1&cursor={page['next']}")) == [mine.id]


def test_regulators_list_requests_of_their_region(client, generator, other_generator, regulator):
    inside = open_request(generator)  # 440306
    open_request(other_generator, region_code="440605")
    assert ids(get(client, regulator, "/requests")) == [inside.id]


@pytest.mark.parametrize("query,field", [("status=bogus", "status"), ("scope=all", "scope"),
                                         ("cursor=%%%", "cursor"), ("limit=0", "limit")])
def test_bad_list_parameters_are_422(client, generator, query, field):
    resp = get(client, generator, f"/requests?{query}")
    assert resp.status_code == 422 and error_of(resp)["field"] == field
