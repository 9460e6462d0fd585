"""Licences, items and permits through the web: uploads, validity, items, permissions."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from market import db
from market.accounts.models import Licence, LicenceItem, Permit
from market.audit.models import AuditEvent
from market.config import ROOT
from tests.factories import LicenceFactory, LicenceItemFactory, PASSWORD

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
COUNTED = (Licence, LicenceItem, Permit, AuditEvent)
IP = "203.0.113.30"





def counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def uploads(app) -> set[str]:
    folder = Path(app.config["UPLOAD_DIR"])
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def as_user(client, user):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.environ_base["REMOTE_ADDR"] = IP
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302
    return client


@pytest.fixture
def op_client(client, operator):
    return as_user(client, operator)


def licence_data(**overrides) -> dict:
    data = {"number": "粤危废-WEB-001", "kind": "comprehensive", "valid_from": "2025-01-01",
            "valid_to": "2029-12-31", "scan": (io.BytesIO(PDF), "营业执照 scan.pdf")}
    for k, v in overrides.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return data


def post_licence(client, **overrides):
    return client.post("/account/licences", data=licence_data(**overrides),
                       content_type="multipart/form-data")


def error_fields(html: str) -> list[str]:
    import re
    return re.findall(r'data-field="([a-z_]+)"', html)


# --- licences --------------------------------------------------------------------------------------

def test_operator_registers_licence_with_scan(app, op_client, operator):
    files, static = uploads(app), set((ROOT / "static").rglob("*"))
    before = counts()
    resp = post_licence(op_client)
    assert resp.status_code == 302
    lic = db.session.scalar(select(Licence).where(Licence.number == "粤危废-WEB-001"))
    assert resp.headers["Location"] == f"/account/licences/{lic.id}"
    assert (lic.org_id, lic.status, lic.kind) == (operator.org_id, "pending", "comprehensive")
    new = uploads(app) - files
    assert new == {lic.scan_file}
    assert "scan" not in lic.scan_file and "营业执照" not in lic.scan_file
    assert len(lic.scan_file) == 36 and lic.scan_file.endswith(".pdf")
    assert (Path(app.config["UPLOAD_DIR"]) / lic.scan_file).read_bytes() == PDF
    assert set((ROOT / "static").rglob("*")) == static
    assert counts()["AuditEvent"] == before["AuditEvent"] + 1
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.object_id, event.actor_user_id, event.actor_org_id, event.ip) == \
        ("licence.created", str(lic.id), operator.id, operator.org_id, IP)

    scan = op_client.get(f"/account/licences/{lic.id}/scan")
    assert scan.status_code == 200 and scan.data == PDF and scan.mimetype == "application/pdf"
    page = op_client.get(f"/account/licences/{lic.id}").get_data(as_text=True)
    assert "粤危废-WEB-001" in page and 'data-testid="item-form"' in page
    listing = op_client.get("/account/licences").get_data(as_text=True)
    assert "粤危废-WEB-001" in listing


def test_licence_without_scan_is_accepted(op_client):
    resp = post_licence(op_client, scan=None)
    assert resp.status_code == 302
    assert db.session.scalar(select(Licence.scan_file).where(Licence.number == "粤危废-WEB-001")) is None


@pytest.mark.parametrize("content, limit, text", [
    (b"This is plain text pretending to be a PDF", None, "PDF, JPEG or PNG"),
    (b"<html><body>%PDF-</body></html>", None, "PDF, JPEG or PNG"),
    (b"", None, "The file is empty."),
    (PDF + b"\x00" * 1000, 1000, "larger than 1000 bytes"),
])
def test_bad_scan_is_422_and_nothing_is_stored(app, op_client, content, limit, text):
    files, before = uploads(app), counts()
    old = app.config["MAX_UPLOAD_BYTES"]
    if limit:
        app.config["MAX_UPLOAD_BYTES"] = limit
    try:
        resp = post_licence(op_client, scan=(io.BytesIO(content), "licence.pdf"))
    finally:
        app.config["MAX_UPLOAD_BYTES"] = old
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert error_fields(html) == ["scan"] and text in html
    assert counts() == before and uploads(app) == files


def test_scan_within_small_limit_is_accepted(app, op_client):
    old = app.config["MAX_UPLOAD_BYTES"]
    app.config["MAX_UPLOAD_BYTES"] = 1000
    try:
        resp = post_licence(op_client, scan=(io.BytesIO(PNG), "photo.png"))
    finally:
        app.config["MAX_UPLOAD_BYTES"] = old
    assert resp.status_code == 302


@pytest.mark.parametrize("overrides, field, text", [
    ({"valid_to": "2030-01-02"}, "valid_to", "at most 5 years"),
    ({"kind": "collection", "valid_to": "2028-01-02"}, "valid_to", "at most 3 years"),
    ({"valid_to": "2024-12-31"}, "valid_to", "before"),
    ({"valid_to": "2025-13-01"}, "valid_to", ""),
    ({"valid_from": ""}, "valid_from", "required"),
    ({"number": ""}, "number", "required"),
    ({"number": "号" * 61}, "number", ""),
    ({"kind": "temporary"}, "kind", ""),
])
def test_bad_licence_is_422_and_changes_nothing(app, op_client, overrides, field, text):
    files, before = uploads(app), counts()
    resp = post_licence(op_client, **overrides)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert error_fields(html) == [field] and text in html
    assert counts() == before and uploads(app) == files


def test_duplicate_licence_number_is_422(op_client, operator):
    number = operator.org.licences[0].number
    before = counts()
    resp = post_licence(op_client, number=number)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert error_fields(html) == ["number"] and "already registered" in html
    assert counts() == before


@pytest.mark.parametrize("role", ["generator", "carrier", "lab", "finance"])
def test_non_operators_get_403_on_licences(request, client, role):
    as_user(client, request.getfixturevalue(role))
    before = counts()
    assert client.get("/account/licences").status_code == 403
    assert post_licence(client).status_code == 403
    assert counts() == before


def test_anonymous_is_sent_to_login(client):
    resp = client.get("/account/licences")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


# --- licence items ---------------------------------------------------------------------------------

@pytest.fixture
def pending(op_client, operator):
    assert post_licence(op_client, scan=None).status_code == 302
    return db.session.scalar(select(Licence).where(Licence.number == "粤危废-WEB-001"))


def item_data(**overrides) -> dict:
    data = {"category_code": "HW08", "codes": "900-214-08，900-249-08", "operations": ["收集", "利用"],
            "method_codes": ["R9"], "approved_t_per_year": "1234.5"}
    for k, v in overrides.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return data


def test_add_and_remove_item(op_client, pending):
    before = counts()
    resp = op_client.post(f"/account/licences/{pending.id}", data=item_data())
    assert resp.status_code == 302
    (item,) = pending.items
    assert item.codes == ["900-214-08", "900-249-08"]
    assert item.operations == ["收集", "利用"] and item.method_codes == ["R9"]
    assert item.approved_kg_per_year == 1_234_500
    after = counts()
    assert after["LicenceItem"] == before["LicenceItem"] + 1
    assert after["AuditEvent"] == before["AuditEvent"] + 1
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.ip) == ("licence.item_added", IP)
    page = op_client.get(f"/account/licences/{pending.id}").get_data(as_text=True)
    assert "1,234.500 t" in page

    item_id = item.id  # the request deletes the row; the test's session then forgets it
    resp = op_client.post(f"/account/licences/{pending.id}/items/{item_id}/remove")
    assert resp.status_code == 302
    assert db.session.get(LicenceItem, item_id) is None
    assert counts()["AuditEvent"] == before["AuditEvent"] + 2
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.object_id, event.ip) == ("licence.item_removed", str(item_id), IP)


@pytest.mark.parametrize("overrides, field", [
    ({"category_code": "HW99"}, "category_code"),
    ({"category_code": None}, "category_code"),
    ({"category_code": "HW17", "codes": "900-214-08"}, "codes"),       # an HW08 code under HW17
    ({"codes": "900-999-08"}, "codes"),
    ({"operations": None}, "operations"),
    ({"operations": ["焚烧"]}, "operations"),
    ({"operations": ["收集", "利用"], "method_codes": None}, "method_codes"),
    ({"operations": ["处置"], "method_codes": None}, "method_codes"),
    ({"method_codes": ["Z9"]}, "method_codes"),
    ({"approved_t_per_year": "0"}, "approved_t_per_year"),
    ({"approved_t_per_year": "-3"}, "approved_t_per_year"),
    ({"approved_t_per_year": "lots"}, "approved_t_per_year"),
    ({"approved_t_per_year": ""}, "approved_t_per_year"),
])
def test_bad_item_is_422_and_changes_nothing(op_client, pending, overrides, field):
    before = counts()
    resp = op_client.post(f"/account/licences/{pending.id}", data=item_data(**overrides))
    assert resp.status_code == 422
    assert field in error_fields(resp.get_data(as_text=True))
    assert counts() == before


def test_item_on_verified_licence_is_409(op_client, operator):
    lic = operator.org.licences[0]
    assert lic.status == "verified"
    before = counts()
    resp = op_client.post(f"/account/licences/{lic.id}", data=item_data())
    assert resp.status_code == 409
    resp = op_client.post(f"/account/licences/{lic.id}/items/{lic.items[0].id}/remove")
    assert resp.status_code == 409
    assert counts() == before


def test_another_organisations_licence_is_404(op_client):
    other = LicenceFactory(status="pending")
    item = LicenceItemFactory(licence=other)
    db.session.commit()
    before = counts()
    assert op_client.get(f"/account/licences/{other.id}").status_code == 404
    assert op_client.post(f"/account/licences/{other.id}", data=item_data()).status_code == 404
    assert op_client.post(f"/account/licences/{other.id}/items/{item.id}/remove").status_code == 404
    assert counts() == before


# --- permits ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("role, kind", [("carrier", "transport"), ("lab", "cma")])
def test_carriers_and_labs_register_permits(request, client, role, kind):
    user = request.getfixturevalue(role)
    as_user(client, user)
    before = counts()
    resp = client.post("/account/permits", content_type="multipart/form-data",
                       data={"number": f"{kind.upper()}-2025-01", "valid_from": "2025-01-01",
                             "valid_to": "2030-12-31", "scan": (io.BytesIO(PNG), "permit.png")})
    assert resp.status_code == 302
    permit = db.session.scalar(select(Permit).where(Permit.number == f"{kind.upper()}-2025-01"))
    assert (permit.kind, permit.org_id, permit.status, permit.scan_mime) == \
        (kind, user.org_id, "pending", "image/png")
    assert counts()["AuditEvent"] == before["AuditEvent"] + 1
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.object_id, event.actor_user_id, event.actor_org_id, event.ip) == \
        ("permit.created", str(permit.id), user.id, user.org_id, IP)
    assert client.get(f"/account/permits/{permit.id}/scan").data == PNG
    assert f"{kind.upper()}-2025-01" in client.get("/account/permits").get_data(as_text=True)


@pytest.mark.parametrize("data, field", [
    ({"number": ""}, "number"),
    ({"valid_to": "2024-01-01"}, "valid_to"),
    ({"valid_from": "yesterday"}, "valid_from"),
    ({"scan": (io.BytesIO(b"GIF89a........"), "permit.png")}, "scan"),
])
def test_bad_permit_is_422(client, carrier, data, field):
    as_user(client, carrier)
    form = {"number": "TR-1", "valid_from": "2025-01-01", "valid_to": "2030-12-31"}
    form.update(data)
    before = counts()
    resp = client.post("/account/permits", data=form, content_type="multipart/form-data")
    assert resp.status_code == 422
    assert error_fields(resp.get_data(as_text=True)) == [field]
    assert counts() == before


@pytest.mark.parametrize("role", ["generator", "operator", "finance"])
def test_permits_page_is_for_carriers_and_labs(request, client, role):
    as_user(client, request.getfixturevalue(role))
    assert client.get("/account/permits").status_code == 403
    resp = client.post("/account/permits", data={"number": "X", "valid_from": "2025-01-01",
                                                 "valid_to": "2026-01-01"})
    assert resp.status_code == 403
