"""A Shenzhen (4403) regulator sees Shenzhen's data and nothing of Foshan's (4406), on EVERY
regulator page and endpoint, enumerated from the URL map: the HTML workspace (oversight.*) and
/api/v1/regulator/*. Routes with an id answer 404 for Foshan's records; writes on them change
nothing."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from market import db
from market.audit.models import AuditEvent
from market.oversight.models import Alert, Sanction
from tests.api.conftest import bearer
from tests.fixtures import login
from tests.oversight_factories import world

TODAY = date.today()
QUERY = {"from": (TODAY - timedelta(days=2)).isoformat(), "to": TODAY.isoformat()}


@pytest.fixture
def worlds():
    return world("4403", "深圳"), world("4406", "佛山")


# Needs a published release; its province scope is tested in tests/api/test_prices_api.py.
NEEDS_PUBLICATION = {"/api/v1/regulator/index"}


def regulator_rules():
    return [r for r in current_app.url_map.iter_rules()
            if (r.endpoint.startswith("oversight.") or r.rule.startswith("/api/v1/regulator"))
            and r.rule not in NEEDS_PUBLICATION]


def build(rule, objects) -> str:
    path = rule.rule
    for arg in rule.arguments:
        path = re.sub(rf"<(?:[^:<>]+:)?{arg}>", str(objects[arg]), path)
    return path


def objects_of(w) -> dict[str, int]:
    return {"org_id": w.generator.id, "alert_id": w.alert.id}


def _get(client, rule, path, headers):
    return client.get(path, query_string=QUERY, headers=headers)


def test_every_regulator_page_and_endpoint_shows_inside_and_nothing_outside(client, regulator,
                                                                             worlds):
    sz, fs = worlds
    login(client, regulator)
    api = bearer(regulator)
    gets = [r for r in regulator_rules() if "GET" in r.methods]
    assert len(gets) >= 10
    for rule in gets:
        headers = api if rule.rule.startswith("/api/") else None
        resp = _get(client, rule, build(rule, objects_of(sz)), headers)
        assert resp.status_code == 200, (rule.rule, resp.status_code)
        body = resp.get_data()  # bytes: the operating report is also a PDF
        for marker in fs.markers:
            assert marker.encode() not in body, (rule.rule, marker)
        if rule.arguments:
            assert _get(client, rule, build(rule, objects_of(fs)), headers).status_code == 404, \
                rule.rule
    # The lists that carry records show Shenzhen's.
    for path, headers in (("/regulator/organisations", None), ("/regulator/alerts", None),
                          ("/api/v1/regulator/settlements", api),
                          ("/api/v1/regulator/settlements.csv", api),
                          ("/regulator/settlements.csv", None), ("/regulator/flows", None)):
        body = client.get(path, query_string=QUERY, headers=headers).get_data(as_text=True)
        assert sz.order.number in body or sz.generator.name in body or "深圳" in body, path


def test_regulator_writes_outside_the_region_are_404_and_change_nothing(client, regulator, worlds):
    _sz, fs = worlds
    api = {**bearer(regulator), "Idempotency-Key": "k1"}
    login(client, regulator)
    db.session.commit()
    before = (db.session.scalar(select(func.count()).select_from(AuditEvent)),
              db.session.scalar(select(func.count()).select_from(Sanction)))
    writes = [r for r in regulator_rules() if r.methods - {"GET", "HEAD", "OPTIONS"}]
    assert {r.endpoint for r in writes} == {"oversight.update_alert", "oversight.impose_sanction",
                                            "api.update_alert", "api.impose_sanction"}
    sanction = {"org_id": fs.generator.id, "kind": "blacklist", "reason": "x",
                "valid_from": TODAY.isoformat(), "valid_to": TODAY.isoformat()}
    assert client.post(f"/api/v1/regulator/alerts/{fs.alert.id}", headers=api,
                       json={"status": "closed", "note": "x"}).status_code == 404
    assert client.post("/api/v1/regulator/sanctions", json=sanction,
                       headers={**api, "Idempotency-Key": "k2"}).status_code == 404
    assert client.post("/regulator/alerts", data={"alert_id": fs.alert.id, "status": "closed",
                                                  "note": "x"}).status_code == 404
    assert client.post("/regulator/sanctions", data=sanction).status_code == 404
    db.session.expire_all()
    assert db.session.get(Alert, fs.alert.id).status == "open"
    assert (db.session.scalar(select(func.count()).select_from(AuditEvent)),
            db.session.scalar(select(func.count()).select_from(Sanction))) == before


def test_other_tenants_may_not_use_the_regulator_workspace(client, generator, worlds):
    sz, _fs = worlds
    login(client, generator)
    for rule in regulator_rules():
        if "GET" not in rule.methods or rule.arguments:
            continue
        headers = bearer(generator) if rule.rule.startswith("/api/") else None
        assert client.get(rule.rule, headers=headers).status_code == 403, rule.rule
    # An organisation's own profile is its own to read; another's is not there.
    assert client.get(f"/regulator/organisations/{generator.org_id}").status_code == 200
    assert client.get(f"/regulator/organisations/{sz.generator.id}").status_code == 404


def test_platform_staff_see_every_region(client, admin, worlds):
    sz, fs = worlds
    login(client, admin)
    body = client.get("/regulator/organisations").get_data(as_text=True)
    assert sz.generator.name in body and fs.generator.name in body


def test_a_regulator_closes_an_alert_and_blacklists_on_the_web(client, regulator, worlds):
    sz, _fs = worlds
    login(client, regulator)
    resp = client.post("/regulator/alerts", data={"alert_id": sz.alert.id, "status": "closed",
                                                  "note": ""})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Alert, sz.alert.id).status == "open"  # a note is needed to close
    client.post("/regulator/alerts", data={"alert_id": sz.alert.id, "status": "closed",
                                           "note": "已核实"})
    db.session.expire_all()
    alert = db.session.get(Alert, sz.alert.id)
    assert (alert.status, alert.note, alert.updated_by_id) == ("closed", "已核实", regulator.id)
    form = {"org_id": sz.operator.id, "kind": "blacklist", "reason": "非法倾倒",
            "valid_from": TODAY.isoformat(), "valid_to": "2020-01-01"}
    client.post("/regulator/sanctions", data=form)
    assert db.session.scalar(select(func.count()).select_from(Sanction)) == 0
    form["valid_to"] = (TODAY + timedelta(days=30)).isoformat()
    assert client.post("/regulator/sanctions", data=form).status_code == 302
    page = client.get(f"/regulator/organisations/{sz.operator.id}").get_data(as_text=True)
    assert "非法倾倒" in page and 'data-testid="credit-score">50<' in page
