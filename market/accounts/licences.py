"""Use cases of licences, licence items and permits."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.accounts.models import (DOC_STATUSES, OPERATIONS, PERMIT_KINDS, Licence, LicenceItem, 
                                    Permit, User)
from market.accounts.policies import licence_validity_problem
from market.accounts.uploads import store_scan
from market.audit.services import changed_fields, record
from market.catalog.models import DisposalMethod, WasteCategory, WasteCode
from market.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.notifications.messages import as_word, message, verbatim
from market.notifications.services import notify_org
from market.uow import transaction
from market.catalog import messages as catalog_messages

MAX_KG_PER_YEAR = 10_000_000_000  # 10 Mt: beyond any licensed plant


def _require_org_type(actor: User, org_type: str) -> None:
    if not actor.org.has_type(org_type):
        raise PermissionDenied(_("Only %(type)s organisations may do this.", type=_(org_type)))


def _own_licence(actor: User, licence_id: int, lock: bool = True) -> Licence:
    stmt = select(Licence).where(Licence.id == licence_id, Licence.org_id == actor.org_id)
    lic = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if lic is None:
        raise NotFound(_("No such licence."))
    return lic


def _check_number(number: str) -> str:
    number = (number or "").strip()
    if not number:
        raise ValidationFailed(_("Licence number is required."), field="number")
    if len(number) > 60:
        raise ValidationFailed(_("Number must be at most 60 characters."), field="number")
    return number


def create_licence(actor: User, *, number: str, kind: str, valid_from: date, valid_to: date,
                   scan=None) -> Licence:
    """Add a licence (pending admin verification) to the operator's organisation."""
    with transaction():
        _require_org_type(actor, "operator")
        number = _check_number(number)
        problem = licence_validity_problem(kind, valid_from, valid_to)
        if problem:
            raise ValidationFailed(_(problem), field="valid_to" if "valid" in problem or "years" in problem else "kind")
        if db.session.scalar(select(Licence.id).where(Licence.number == number)):
            raise ValidationFailed(_("A licence with this number is already registered."), field="number")
        lic = Licence(org_id=actor.org_id, number=number, kind=kind, valid_from=valid_from,
                      valid_to=valid_to, status="pending")
        if scan is not None:
            lic.scan_file, lic.scan_mime = store_scan(scan)
        db.session.add(lic)
        db.session.flush()
        record("licence.created", lic, changes={"number": number, "kind": kind,
                                                "valid_from": str(valid_from), "valid_to": str(valid_to)},
               actor=actor)
        return lic


def add_licence_item(actor: User, licence_id: int, *, category_code: str, codes: list[str],
                     operations: list[str], method_codes: list[str], approved_kg_per_year: int) -> LicenceItem:
    """Add an approved line to a licence that is not yet verified."""
    with transaction():
        lic = _own_licence(actor, licence_id)
        if lic.status == "verified":
            raise InvalidState(_("A verified licence cannot change; register the new licence instead."))
        if db.session.get(WasteCategory, category_code or "") is None:
            raise ValidationFailed(catalog_messages.unknown_category(category_code), field="category_code")
        codes = [c.strip() for c in codes if c.strip()]
        # A repeated code is a typing slip the operator should see, not something to merge quietly.
        twice = sorted({c for c in codes if codes.count(c) > 1} | {m for m in method_codes
                                                                    if method_codes.count(m) > 1})
        if twice:
            raise ValidationFailed(_("%(c)s is listed twice.", c=", ".join(twice)),
                                   field="codes" if twice[0] in codes else "method_codes")
        codes = sorted(codes)
        for code in codes:
            wc = db.session.get(WasteCode, code)
            if wc is None:
                raise ValidationFailed(catalog_messages.unknown_code(code), field="codes")
            if wc.category_code != category_code:
                raise ValidationFailed(catalog_messages.code_of_other_category(
                    code, wc.category_code, category_code), field="codes")
        if not operations or any(op not in OPERATIONS for op in operations):
            raise ValidationFailed(_("Choose operations among 收集, 贮存, 利用, 处置."), field="operations")
        known_methods = set(db.session.scalars(select(DisposalMethod.code)))
        bad = [m for m in method_codes if m not in known_methods]
        if bad:
            raise ValidationFailed(catalog_messages.unknown_method(", ".join(bad)), field="method_codes")
        if set(operations) & {"利用", "处置"} and not method_codes:
            raise ValidationFailed(_("Utilisation or disposal needs at least one method code."),
                                   field="method_codes")
        if not isinstance(approved_kg_per_year, int) or isinstance(approved_kg_per_year, bool) \
                or not 0 < approved_kg_per_year <= MAX_KG_PER_YEAR:
            raise ValidationFailed(_("Approved scale must be a whole number of kilograms above zero."),
                                   field="approved_kg_per_year")
        item = LicenceItem(licence_id=lic.id, category_code=category_code, codes=codes,
                           operations=[op for op in OPERATIONS if op in operations],
                           method_codes=sorted(set(method_codes)),
                           approved_kg_per_year=approved_kg_per_year)
        db.session.add(item)
        db.session.flush()
        record("licence.item_added", item, actor=actor,
               changes={"licence": lic.number, "category": category_code, "codes": codes,
                        "operations": item.operations, "methods": item.method_codes,
                        "approved_kg_per_year": approved_kg_per_year})
        return item


def remove_licence_item(actor: User, licence_id: int, item_id: int) -> None:
    """Remove a line from a licence that is not yet verified."""
    with transaction():
        lic = _own_licence(actor, licence_id)
        if lic.status == "verified":
            raise InvalidState(_("A verified licence cannot change; register the new licence instead."))
        item = db.session.scalar(select(LicenceItem).where(LicenceItem.id == item_id,
                                                           LicenceItem.licence_id == lic.id))
        if item is None:
            raise NotFound(_("No such licence item."))
        record("licence.item_removed", item, actor=actor,
               changes={"licence": lic.number, "category": item.category_code})
        db.session.delete(item)


def create_permit(actor: User, *, kind: str, number: str, valid_from: date, valid_to: date,
                  scan=None) -> Permit:
    """Add a transport permit (carriers) or CMA accreditation (labs), pending verification."""
    with transaction():
        if kind not in PERMIT_KINDS:
            raise ValidationFailed(_("Unknown permit kind: choose a transport permit or a CMA "
                                     "accreditation from the list."), field="kind")
        _require_org_type(actor, "carrier" if kind == "transport" else "lab")
        number = _check_number(number)
        if valid_to < valid_from:
            raise ValidationFailed(_("valid to must not be before valid from"), field="valid_to")
        if db.session.scalar(select(Permit.id).where(Permit.kind == kind, Permit.number == number)):
            raise ValidationFailed(_("This number is already registered."), field="number")
        permit = Permit(org_id=actor.org_id, kind=kind, number=number, valid_from=valid_from,
                        valid_to=valid_to, status="pending")
        if scan is not None:
            permit.scan_file, permit.scan_mime = store_scan(scan)
        db.session.add(permit)
        db.session.flush()
        record("permit.created", permit, actor=actor,
               changes={"kind": kind, "number": number, "valid_from": str(valid_from),
                        "valid_to": str(valid_to)})
        return permit


def decide_document(actor: User, model: type, doc_id: int, verify: bool, reason: str = ""):
    """Admin verifies or rejects a licence or permit; the holder is notified."""
    with transaction():
        if actor.platform_role != "admin":
            raise PermissionDenied(_("Only platform administrators may do this."))
        doc = db.session.get(model, doc_id, with_for_update=True)
        if doc is None:
            raise NotFound(_("No such document."))
        if doc.status != "pending":
            raise InvalidState(_("Only pending documents can be decided; this one is %(s)s.", s=_(doc.status)))
        reason = (reason or "").strip()
        if not verify and not reason:
            raise ValidationFailed(_("A reason is required."), field="reason")
        if model is Licence and verify and not doc.items:
            raise InvalidState(_("A licence without items cannot be verified."))
        doc.status = "verified" if verify else "rejected"
        doc.status_reason = reason or None
        assert doc.status in DOC_STATUSES
        record(f"{model.__tablename__}.{'verified' if verify else 'rejected'}", doc,
               changes=changed_fields(doc), actor=actor)
        notify_org(doc.org_id, f"{model.__tablename__}.decided",
                   message("%(doc)s %(number)s is %(status)s.", doc=as_word(model.__tablename__),
                           number=doc.number, status=as_word(doc.status)), verbatim(reason))
        return doc
