"""POST /api/v1/requests/import and the template; the web page's report and batch id."""
from __future__ import annotations

import io

from flask_babel import force_locale
from sqlalchemy import func, select

from market import db
from market.listings.models import DisposalRequest
from tests.api.conftest import bearer, error_of
from tests.factories import OrganisationFactory, UserFactory
from tests.fixtures import login
from tests.services.test_bulk_import import MIXED, csv_bytes, row


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(DisposalRequest))


def post(client, headers, data: bytes, batch: str, valid_only: str | None = None):
    form = {"file": (io.BytesIO(data), "sites.csv"), "batch_id": batch}
    if valid_only:
        form["valid_rows_only"] = valid_only
    return client.post("/api/v1/requests/import", headers=headers, data=form,
                       content_type="multipart/form-data")


def test_api_rejects_with_rows_then_imports_valid_ones_once(client):
    gen = UserFactory(org=OrganisationFactory(types=["generator"]))
    h = bearer(gen)
    before = count()
    with force_locale("en"):
        resp = post(client, h, csv_bytes(MIXED), "api-1")
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["error"]["code"] == "rows_invalid" and body["status"] == "rejected"
    assert [e["line"] for e in body["errors"]] == [3, 5, 6, 7]
    assert count() == before
    resp = post(client, h, csv_bytes(MIXED), "api-1", "true")
    assert resp.status_code == 201 and len(resp.get_json()["created"]) == 2
    again = post(client, h, csv_bytes(MIXED), "api-1", "true")
    assert again.status_code == 200 and again.get_json()["status"] == "already_imported"
    assert count() == before + 2


def test_api_needs_a_batch_id_and_a_generator(client):
    gen = UserFactory(org=OrganisationFactory(types=["generator"]))
    before = count()
    resp = post(client, bearer(gen), csv_bytes([row()]), "")
    assert resp.status_code == 422 and error_of(resp)["field"] == "batch_id"
    op = UserFactory(org=OrganisationFactory(types=["operator"]))
    assert post(client, bearer(op), csv_bytes([row()]), "x").status_code == 403
    assert count() == before


def test_api_template_downloads(client):
    h = bearer(UserFactory(org=OrganisationFactory(types=["generator"])))
    csv_resp = client.get("/api/v1/requests/import/template.csv", headers=h)
    assert csv_resp.status_code == 200 and b"category,waste_code" in csv_resp.data
    xlsx = client.get("/api/v1/requests/import/template.xlsx", headers=h)
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_web_page_reports_lines_and_keeps_the_batch_for_a_resend(client):
    gen = UserFactory(org=OrganisationFactory(types=["generator"]))
    login(client, gen)
    page = client.get("/requests/import").get_data(as_text=True)
    assert "template.xlsx" in page and 'name="batch_id"' in page
    before = count()
    resp = client.post("/requests/import", data={
        "file": (io.BytesIO(csv_bytes(MIXED)), "sites.csv"), "batch_id": "web-1"},
        content_type="multipart/form-data")
    assert resp.status_code == 422 and count() == before
    html = resp.get_data(as_text=True)
    assert html.count('data-testid="import-error"') == 4 and 'value="web-1"' in html
    for _ in range(2):
        resp = client.post("/requests/import", data={
            "file": (io.BytesIO(csv_bytes(MIXED)), "sites.csv"), "batch_id": "web-1",
            "valid_rows_only": "1"}, content_type="multipart/form-data")
        assert resp.status_code == 200
    assert count() == before + 2
