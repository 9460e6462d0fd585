"""Licences, licence items and permits on the real database; uploads; coverage and validity."""
from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from market import db
from market.accounts import licences as svc
from market.accounts.models import Licence, LicenceItem, Permit
from market.accounts.policies import licence_validity_problem, sniff_scan_type
from market.audit.models import AuditEvent
from market.config import ROOT
from market.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.listings.validation import today
from market.notifications.models import EmailMessage, Notification
from tests.factories import LicenceFactory, LicenceItemFactory, PermitFactory, UserFactory

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
COUNTED = (Licence, LicenceItem, Permit, AuditEvent, Notification, EmailMessage)



@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; outside a request the default locale is Chinese."""
    with force_locale("en"):
        yield

def settle() -> None:
    """Keep factory rows alive across a failing use case's rollback (see test_accounts.settle)."""
    db.session.commit()


def counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def uploads(app) -> set[str]:
    folder = Path(app.config["UPLOAD_DIR"])
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def static_files() -> set[Path]:
    return set((ROOT / "static").rglob("*"))


@pytest.fixture
def pending_licence(operator):
    lic = svc.create_licence(operator, number="粤危废待审-001", kind="comprehensive",
                             valid_from=date(2025, 1, 1), valid_to=date(2029, 12, 31))
    return lic


def item_args(**overrides) -> dict:
    args = dict(category_code="HW08", codes=["900-214-08"], operations=["收集", "贮存", "利用"],
                method_codes=["R9"], approved_kg_per_year=5_000_000)
    args.update(overrides)
    return args


# --- creating licences ---------------------------------------------------------------------------

def test_operator_creates_pending_licence_with_scan_stored_outside_static(app, operator):
    before, files, static = counts(), uploads(app), static_files()
    lic = svc.create_licence(operator, number=" 粤危废-NEW-1 ", kind="comprehensive",
                             valid_from=date(2025, 1, 1), valid_to=date(2030, 1, 1),
                             scan=io.BytesIO(PDF))
    assert lic.status == "pending" and lic.number == "粤危废-NEW-1" and lic.org_id == operator.org_id
    assert lic.scan_mime == "application/pdf"
    new = uploads(app) - files
    assert new == {lic.scan_file} and lic.scan_file.endswith(".pdf")
    assert len(lic.scan_file) == 32 + 4  # 128 random bits, hex
    assert (Path(app.config["UPLOAD_DIR"]) / lic.scan_file).read_bytes() == PDF
    assert not Path(app.config["UPLOAD_DIR"]).resolve().is_relative_to((ROOT / "static").resolve())
    assert static_files() == static
    after = counts()
    assert after["Licence"] == before["Licence"] + 1
    assert after["AuditEvent"] == before["AuditEvent"] + 1
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.object_id, event.actor_user_id, event.actor_org_id) == \
        ("licence.created", str(lic.id), operator.id, operator.org_id)


@pytest.mark.parametrize("content, mime, suffix", [(PNG, "image/png", ".png"),
                                                   (JPEG, "image/jpeg", ".jpg")])
def test_images_are_accepted_by_content(operator, content, mime, suffix):
    lic = svc.create_licence(operator, number="IMG-1", kind="collection", valid_from=date(2025, 1, 1),
                             valid_to=date(2026, 1, 1), scan=io.BytesIO(content))
    assert (lic.scan_mime, Path(lic.scan_file).suffix) == (mime, suffix)


@pytest.mark.parametrize("content, limit, message", [
    (b"just text, named scan.pdf", None, "PDF, JPEG or PNG"),
    (b"GIF89a" + b"\x00" * 20, None, "PDF, JPEG or PNG"),
    (b"", None, "empty"),
    (PDF + b"\x00" * 1000, 1000, "1000 bytes"),
    (PDF + b"\x00" * 2048, 2048, "2 KB"),
])
def test_bad_scans_refused_and_nothing_stored(app, operator, content, limit, message):
    settle()
    before, files = counts(), uploads(app)
    old = app.config["MAX_UPLOAD_BYTES"]
    if limit:
        app.config["MAX_UPLOAD_BYTES"] = limit
    try:
        with pytest.raises(ValidationFailed) as exc:
            svc.create_licence(operator, number="SCAN-1", kind="comprehensive",
                               valid_from=date(2025, 1, 1), valid_to=date(2026, 1, 1),
                               scan=io.BytesIO(content))
    finally:
        app.config["MAX_UPLOAD_BYTES"] = old
    assert exc.value.field == "scan" and message in exc.value.message
    assert counts() == before and uploads(app) == files


def test_default_upload_limit_is_ten_megabytes(app, operator):
    assert app.config["MAX_UPLOAD_BYTES"] == 10 * 1024 * 1024
    settle()
    with pytest.raises(ValidationFailed) as exc:
        svc.create_licence(operator, number="BIG-1", kind="comprehensive",
                           valid_from=date(2025, 1, 1), valid_to=date(2026, 1, 1),
                           scan=io.BytesIO(PDF + b"\x00" * (10 * 1024 * 1024)))
    assert "10 MB" in exc.value.message


@pytest.mark.parametrize("kind, valid_from, valid_to, ok", [
    ("comprehensive", date(2025, 3, 1), date(2030, 3, 1), True),      # exactly five years
    ("comprehensive", date(2025, 3, 1), date(2030, 3, 2), False),
    ("collection", date(2025, 3, 1), date(2028, 3, 1), True),         # exactly three years
    ("collection", date(2025, 3, 1), date(2028, 3, 2), False),
    ("comprehensive", date(2024, 2, 29), date(2029, 2, 28), True),    # leap day start
    ("comprehensive", date(2024, 2, 29), date(2029, 3, 1), False),
    ("comprehensive", date(2025, 3, 1), date(2025, 3, 1), True),
    ("comprehensive", date(2025, 3, 1), date(2025, 2, 28), False),    # ends before it starts
    ("temporary", date(2025, 3, 1), date(2025, 4, 1), False),
])
def test_licence_validity_rules(kind, valid_from, valid_to, ok):
    assert (licence_validity_problem(kind, valid_from, valid_to) is None) is ok


@pytest.mark.parametrize("overrides, field, words", [
    ({"valid_to": date(2030, 1, 2)}, "valid_to", "5 years"),
    ({"kind": "collection", "valid_to": date(2028, 1, 2)}, "valid_to", "3 years"),
    ({"valid_to": date(2024, 12, 31)}, "valid_to", "before"),
    ({"kind": "temporary"}, "kind", "kind"),
    ({"number": ""}, "number", "required"),
    ({"number": "号" * 61}, "number", "60"),
])
def test_create_licence_refuses_bad_input(operator, overrides, field, words):
    args = dict(number="BAD-1", kind="comprehensive", valid_from=date(2025, 1, 1),
                valid_to=date(2030, 1, 1))
    args.update(overrides)
    settle()
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        svc.create_licence(operator, **args)
    assert exc.value.field == field and words in exc.value.message
    assert counts() == before


def test_duplicate_licence_number_refused(operator):
    existing = operator.org.licences[0]
    settle()
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        svc.create_licence(operator, number=existing.number, kind="comprehensive",
                           valid_from=date(2025, 1, 1), valid_to=date(2026, 1, 1))
    assert exc.value.field == "number" and "already" in exc.value.message
    assert counts() == before


@pytest.mark.parametrize("role", ["generator", "carrier", "lab", "regulator", "admin"])
def test_only_operators_create_licences(request, role):
    actor = request.getfixturevalue(role)
    settle()
    before = counts()
    with pytest.raises(PermissionDenied):
        svc.create_licence(actor, number="NOPE-1", kind="comprehensive", valid_from=date(2025, 1, 1),
                           valid_to=date(2026, 1, 1))
    assert counts() == before


# --- licence items -------------------------------------------------------------------------------

def test_add_item_to_pending_licence(operator, pending_licence):
    before = counts()
    item = svc.add_licence_item(operator, pending_licence.id,
                                **item_args(codes=[" 900-249-08", "900-214-08", ""],
                                            operations=["利用", "收集"], method_codes=["R9"]))
    assert item.codes == ["900-214-08", "900-249-08"]
    assert item.operations == ["收集", "利用"]  # canonical order
    assert item.method_codes == ["R9"]
    after = counts()
    assert after["LicenceItem"] == before["LicenceItem"] + 1
    assert after["AuditEvent"] == before["AuditEvent"] + 1
    svc.add_licence_item(operator, pending_licence.id,
                         **item_args(category_code="HW17", codes=[], operations=["收集", "贮存"],
                                     method_codes=[]))  # collection and storage need no method


@pytest.mark.parametrize("overrides, field", [
    ({"category_code": "HW99"}, "category_code"),
    ({"category_code": ""}, "category_code"),
    ({"category_code": "HW17", "codes": ["900-214-08"]}, "codes"),   # an HW08 code under HW17
    ({"codes": ["900-999-08"]}, "codes"),                           # not in the code list
    ({"operations": []}, "operations"),
    ({"operations": ["焚烧"]}, "operations"),
    ({"operations": ["利用"], "method_codes": []}, "method_codes"),
    ({"operations": ["处置"], "method_codes": []}, "method_codes"),
    ({"method_codes": ["Z9"]}, "method_codes"),
    ({"codes": ["900-214-08", " 900-214-08"]}, "codes"),             # a repeat is refused, not merged
    ({"method_codes": ["R9", "R9"]}, "method_codes"),
    ({"approved_kg_per_year": 0}, "approved_kg_per_year"),
    ({"approved_kg_per_year": -5}, "approved_kg_per_year"),
    ({"approved_kg_per_year": 1.5}, "approved_kg_per_year"),
    ({"approved_kg_per_year": True}, "approved_kg_per_year"),
    ({"approved_kg_per_year": 10**13}, "approved_kg_per_year"),
])
def test_add_item_refuses_bad_input(operator, pending_licence, overrides, field):
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        svc.add_licence_item(operator, pending_licence.id, **item_args(**overrides))
    assert exc.value.field == field
    assert counts() == before


def test_verified_licence_items_cannot_change(operator):
    lic = operator.org.licences[0]
    assert lic.status == "verified"
    settle()
    before = counts()
    with pytest.raises(InvalidState):
        svc.add_licence_item(operator, lic.id, **item_args())
    with pytest.raises(InvalidState):
        svc.remove_licence_item(operator, lic.id, lic.items[0].id)
    assert counts() == before


def test_items_of_another_organisations_licence_are_not_found(operator, pending_licence):
    other = UserFactory(org=LicenceFactory(status="pending").org)
    settle()
    with pytest.raises(NotFound):
        svc.add_licence_item(other, pending_licence.id, **item_args())


def test_remove_item(operator, pending_licence):
    item = svc.add_licence_item(operator, pending_licence.id, **item_args())
    svc.remove_licence_item(operator, pending_licence.id, item.id)
    assert db.session.get(LicenceItem, item.id) is None
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) \
        == "licence.item_removed"
    with pytest.raises(NotFound):
        svc.remove_licence_item(operator, pending_licence.id, item.id)


# --- coverage and validity -----------------------------------------------------------------------

def test_item_without_code_list_covers_the_whole_category():
    item = LicenceItemFactory(category_code="HW08", codes=[])
    assert item.covers("HW08")
    assert item.covers("HW08", "900-214-08")
    assert item.covers("HW08", "900-249-08")
    assert not item.covers("HW17")
    assert not item.covers("HW17", "336-064-17")


def test_item_with_code_list_covers_only_those_codes():
    item = LicenceItemFactory(category_code="HW08", codes=["900-214-08"])
    assert item.covers("HW08", "900-214-08")
    assert not item.covers("HW08", "900-249-08")
    assert not item.covers("HW17", "900-214-08")
    assert item.covers("HW08")  # a category-level question: the item licenses part of it


@pytest.mark.parametrize("factory", [LicenceFactory, PermitFactory])
def test_validity_on_boundaries(factory):
    doc = factory(valid_from=date(2025, 1, 1), valid_to=date(2027, 6, 30), status="verified")
    assert not doc.is_valid_on(date(2024, 12, 31))
    assert doc.is_valid_on(date(2025, 1, 1))
    assert doc.is_valid_on(date(2026, 5, 5))
    assert doc.is_valid_on(date(2027, 6, 30))
    assert not doc.is_valid_on(date(2027, 7, 1))
    for status in ("pending", "rejected"):
        doc.status = status
        assert not doc.is_valid_on(date(2026, 5, 5))


# --- permits -------------------------------------------------------------------------------------

@pytest.mark.parametrize("role, kind", [("carrier", "transport"), ("lab", "cma")])
def test_carriers_and_labs_keep_permits(app, request, role, kind):
    actor = request.getfixturevalue(role)
    before = counts()
    permit = svc.create_permit(actor, kind=kind, number=f"{kind}-0001", valid_from=date(2025, 1, 1),
                               valid_to=date(2030, 1, 1), scan=io.BytesIO(PNG))
    assert (permit.kind, permit.status, permit.org_id) == (kind, "pending", actor.org_id)
    assert permit.scan_mime == "image/png" and (Path(app.config["UPLOAD_DIR"]) / permit.scan_file).exists()
    after = counts()
    assert after["Permit"] == before["Permit"] + 1 and after["AuditEvent"] == before["AuditEvent"] + 1


@pytest.mark.parametrize("role, kind", [("generator", "transport"), ("operator", "cma"),
                                        ("carrier", "cma"), ("lab", "transport")])
def test_permit_kind_must_fit_organisation(request, role, kind):
    actor = request.getfixturevalue(role)
    settle()
    before = counts()
    with pytest.raises(PermissionDenied):
        svc.create_permit(actor, kind=kind, number="X-1", valid_from=date(2025, 1, 1),
                          valid_to=date(2026, 1, 1))
    assert counts() == before


def test_permit_bad_input(carrier):
    PermitFactory(org=carrier.org, number="DUP-1")
    settle()
    before = counts()
    cases = [
        (dict(kind="boat"), "kind"),
        (dict(number=""), "number"),
        (dict(number="DUP-1"), "number"),
        (dict(valid_to=date(2024, 1, 1)), "valid_to"),
        (dict(scan=io.BytesIO(b"plain text")), "scan"),
    ]
    for overrides, field in cases:
        args = dict(kind="transport", number="NEW-1", valid_from=date(2025, 1, 1),
                    valid_to=date(2026, 1, 1))
        args.update(overrides)
        with pytest.raises(ValidationFailed) as exc:
            svc.create_permit(carrier, **args)
        assert exc.value.field == field, overrides
    assert counts() == before


# --- admin decisions on documents ----------------------------------------------------------------

def test_admin_verifies_licence_with_items_and_holder_is_notified(admin, operator, pending_licence):
    svc.add_licence_item(operator, pending_licence.id, **item_args())
    before = counts()
    svc.decide_document(admin, Licence, pending_licence.id, True)
    db.session.refresh(pending_licence)
    assert pending_licence.status == "verified"
    assert pending_licence.is_valid_on(date(2026, 1, 1))
    after = counts()
    assert after["AuditEvent"] == before["AuditEvent"] + 1
    assert after["Notification"] == before["Notification"] + 1  # the operator's one user
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "licence.verified" and event.changes["status"] == ["pending", "verified"]
    assert event.actor_user_id == admin.id
    note = db.session.scalars(select(Notification).order_by(Notification.id.desc())).first()
    assert note.user_id == operator.id and pending_licence.number in note.title


def test_licence_without_items_cannot_be_verified(admin, pending_licence):
    settle()
    before = counts()
    with pytest.raises(InvalidState):
        svc.decide_document(admin, Licence, pending_licence.id, True)
    db.session.refresh(pending_licence)
    assert pending_licence.status == "pending" and counts() == before


@pytest.mark.parametrize("model", [Licence, Permit])
def test_reject_needs_reason_and_decisions_are_final(admin, carrier, pending_licence, model):
    doc = pending_licence if model is Licence else PermitFactory(org=carrier.org, status="pending")
    settle()
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        svc.decide_document(admin, model, doc.id, False, " ")
    assert exc.value.field == "reason" and counts() == before
    svc.decide_document(admin, model, doc.id, False, "扫描件不清晰")
    db.session.refresh(doc)
    assert (doc.status, doc.status_reason) == ("rejected", "扫描件不清晰")
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == f"{model.__tablename__}.rejected"
    settle()
    before = counts()
    with pytest.raises(InvalidState):
        svc.decide_document(admin, model, doc.id, True)
    assert counts() == before


def test_admin_verifies_permit(admin, lab):
    permit = PermitFactory(org=lab.org, kind="cma", status="pending")
    svc.decide_document(admin, Permit, permit.id, True)
    assert permit.status == "verified"
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == lab.id)) == 1


@pytest.mark.parametrize("role", ["operator", "finance", "regulator", "generator"])
def test_only_admins_decide_documents(request, role, pending_licence):
    actor = request.getfixturevalue(role)
    settle()
    before = counts()
    with pytest.raises(PermissionDenied):
        svc.decide_document(actor, Licence, pending_licence.id, True)
    assert counts() == before


def test_decide_unknown_document_not_found(admin):
    with pytest.raises(NotFound):
        svc.decide_document(admin, Permit, 10**9, True)


def test_sniffing_looks_at_content_not_names():
    assert sniff_scan_type(PDF[:16]) == "application/pdf"
    assert sniff_scan_type(b"%PDF") is None  # truncated magic
    assert sniff_scan_type(b"<html>%PDF-") is None


def test_expiry_is_relative_to_today():
    lic = LicenceFactory(valid_to=today() + timedelta(days=30))
    assert lic.is_valid_on(today())
    assert not lic.is_valid_on(today() + timedelta(days=31))
