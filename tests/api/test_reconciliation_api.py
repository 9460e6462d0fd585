"""Reconciliation over the API: finance imports, matches, lists exceptions and closes a day;
every other role is refused and nothing changes."""
from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from market import db
from market.reconciliation.models import StatementImport
from tests.api.conftest import bearer
from tests.reconciliation_factories import FORMATS
from tests.services.test_reconciliation import month  # noqa: F401  (fixture)

ROUTES = [("POST", "/api/v1/finance/statements"), ("POST", "/api/v1/finance/reconciliation/run"),
          ("GET", "/api/v1/finance/reconciliation/exceptions"),
          ("POST", "/api/v1/finance/reconciliation/close"),
          ("GET", "/api/v1/finance/statements/progress?upload_id=1")]


def test_the_list_names_every_reconciliation_route(app):
    listed = {(m, p.split("?")[0]) for m, p in ROUTES}
    found = {(m, r.rule) for r in app.url_map.iter_rules()
             if r.rule.startswith(("/api/v1/finance/statements",
                                   "/api/v1/finance/reconciliation"))
             for m in r.methods - {"HEAD", "OPTIONS"}}
    assert found == listed


@pytest.mark.parametrize("role", ["generator", "operator", "carrier", "lab", "regulator"])
def test_only_finance_and_admins(client, role, request):
    user = request.getfixturevalue(role)
    for method, path in ROUTES:
        resp = client.open(path, method=method, headers=bearer(user), json={"day": "2026-01-01"})
        assert resp.status_code == 403, (role, path, resp.status_code)
        assert resp.get_json()["error"]["code"] == "permission_denied"


def test_import_match_list_close(client, finance, month):  # noqa: F811
    data = base64.b64encode(FORMATS["mt940"](month["moves"])).decode()
    resp = client.post("/api/v1/finance/statements", headers=bearer(finance),
                       json={"filename": "nov.sta", "content_base64": data})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["format"] == "mt940" and resp.get_json()["lines"] == 8
    again = client.post("/api/v1/finance/statements", headers=bearer(finance),
                        json={"filename": "nov.sta", "content_base64": data})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_imported"
    bad = client.post("/api/v1/finance/statements", headers=bearer(finance),
                      json={"filename": "x.csv", "content_base64": base64.b64encode(
                          b"booking_date\n").decode()})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "file"
    assert db.session.scalar(select(func.count()).select_from(StatementImport)) == 1
    run = client.post("/api/v1/finance/reconciliation/run", headers=bearer(finance))
    assert run.status_code == 200, run.get_json()
    assert run.get_json()["matched"] == 2
    items = client.get("/api/v1/finance/reconciliation/exceptions",
                       headers=bearer(finance)).get_json()["items"]
    assert sorted(i["kind"] for i in items) == ["overpayment", "unmatched_line", "unmatched_line"]
    day = month["moves"][-1].day.isoformat()
    closed = client.post("/api/v1/finance/reconciliation/close", headers=bearer(finance),
                         json={"day": day})
    assert closed.status_code == 200 and closed.get_json()["status"] == "different"
