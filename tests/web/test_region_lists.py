"""Fields listing several regions (service areas, alert regions, a round's regions) are chosen with
the region picker, kept as ticked boxes, and still read as the codes or prefixes services take."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from market import db
from market.collection.models import CollectionRound
from market.listings.models import ServiceArea
from market.listings.validation import today
from market.web.fields import as_code, as_prefix, resolve, split_codes
from tests.collection_factories import collector
from tests.fixtures import operator  # noqa: F401
from tests.web.marketplace import as_user, counts


def _areas(org_id) -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(ServiceArea.region_prefix).where(ServiceArea.org_id == org_id)))


def test_prefixes_and_codes_convert_both_ways():
    assert [as_prefix(c) for c in ("440000", "440300", "440305", "110105")] == ["44", "4403", "440305", "110105"]
    assert [as_code(p) for p in ("44", "4403", "440305")] == ["440000", "440300", "440305"]
    assert split_codes("4403， 4419、44\n12;13") == ["4403", "4419", "44", "12", "13"]
    assert resolve("440000", "440300", "440305") == "440305"
    assert resolve("440000", "110100", "110105") == "440000"  # a city of another province is ignored
    assert resolve("", "", "440305") == "440305"  # a code posted alone
    assert resolve("110000", "110105", "") == "110105"  # Beijing's districts sit under the province


def test_service_areas_kept_ticked_plus_the_one_chosen_in_the_picker(client, operator):
    as_user(client, operator)
    assert client.post("/account/service-areas", data={"prefixes": "4403"}).status_code == 302
    page = client.get("/account/service-areas").get_data(as_text=True)
    assert 'value="4403" checked' in page and "广东省 › 深圳市 (440300)" in page
    # keep 4403 ticked, choose 东莞市 in the picker and save: both are served
    resp = client.post("/account/service-areas", data={
        "prefixes": ["4403"], "prefixes-province": "440000", "prefixes-city": "441900",
        "prefixes-district": ""})
    assert resp.status_code == 302 and _areas(operator.org_id) == ["4403", "4419"]
    # untick 4403 (not posted): only 4419 remains
    resp = client.post("/account/service-areas", data={
        "prefixes": ["4419"], "prefixes-province": "", "prefixes-city": "", "prefixes-district": ""})
    assert resp.status_code == 302 and _areas(operator.org_id) == ["4419"]


def test_adding_a_region_without_javascript_is_a_step_that_saves_nothing(client, operator):
    as_user(client, operator)
    before = counts()
    resp = client.post("/account/service-areas", data={
        "prefixes": ["4419"], "prefixes-province": "440000", "prefixes-city": "440300",
        "prefixes-district": "", "_refine": "add"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'value="4403" checked' in page and 'value="4419" checked' in page
    assert counts() == before and _areas(operator.org_id) == []
    # showing the next level keeps the choice in the picker and adds nothing yet
    resp = client.post("/account/service-areas", data={
        "prefixes": ["4419"], "prefixes-province": "440000", "prefixes-city": "",
        "prefixes-district": "", "_refine": "region"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and '<option value="440300">深圳市</option>' in page
    assert 'value="44" checked' not in page


def test_a_bad_region_in_the_list_is_refused_naming_the_field(client, operator):
    as_user(client, operator)
    before = counts()
    resp = client.post("/account/service-areas", data={"prefixes": ["99"], "prefixes-province": ""})
    assert resp.status_code == 422 and "No region starts with 99." in resp.get_data(as_text=True)
    assert counts() == before


def test_a_round_is_published_for_the_regions_kept_and_the_one_chosen(client):
    user = collector()
    as_user(client, user)
    day = today() + timedelta(days=7)
    form = {"date": day.isoformat(), "window_start": "09:00", "window_end": "17:00",
            "categories": "HW08", "price": "3000", "minimum": "0",
            "vehicle_capacity_kg": "1000", "booking_closes_at": f"{(day - timedelta(days=1)).isoformat()}T18:00",
            "repeat": "none", "region_codes": ["440300"], "region_codes-province": "440000",
            "region_codes-city": "440600", "region_codes-district": "440605"}
    page = client.get("/collection/rounds/new").get_data(as_text=True)
    assert 'name="region_codes" value="440605" checked' in page  # the collector's own district
    resp = client.post("/collection/rounds/new", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    rnd = db.session.scalars(select(CollectionRound).where(CollectionRound.operator_id == user.org_id)).one()
    assert sorted(rnd.region_codes) == ["440300", "440605"]


def test_a_round_without_regions_is_refused_saying_what_to_do(client):
    as_user(client, collector())
    before = counts()
    resp = client.post("/collection/rounds/new", data={"region_codes-province": "", "date": "",
                                                       "categories": "HW08"})
    assert resp.status_code == 422
    assert "Add at least one region the round serves." in resp.get_data(as_text=True)
    assert counts() == before
