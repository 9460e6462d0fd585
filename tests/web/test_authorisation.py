"""The authorisation matrix: every HTML route × every role, cross-tenant and cross-region access.

Routes are enumerated from the application's URL map, so a new route that takes an id without a
builder here, or that forgets its scoping, makes these tests fail.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from market import db
from market.accounts.models import Licence, OrgChangeRequest
from market.listings.models import DisposalRequest
from market.orders.models import Order
from market.accounts import sessions
from market.accounts.models import ApiToken, User, UserSession
from market.accounts.tokens import issue_api_token
from market.audit.models import AuditEvent
from market.listings.validation import today
from market.db import utcnow
from market.settlement.payout_models import BankAccount, PayoutBatch, PayoutBatchLine
from market.webhooks.models import WebhookEndpoint
from tests.collection_factories import collection_objects
from tests.escrow_factories import dispute_on
from tests.factories import (LicenceFactory, LicenceItemFactory, OrganisationFactory, PermitFactory,
                             UserFactory)
from tests.fixtures import login
from tests.manifest_factories import manifest_objects
from tests.listing_factories import DisposalRequestFactory, QuoteFactory, StorefrontOfferFactory
from tests.sampling_factories import contract_objects
from tests.state import fingerprint
from tests.web.marketplace import order_from_offer

ROLES = ["generator", "operator", "carrier", "lab", "regulator", "finance", "admin"]
# Routes anyone may reach without logging in.
PUBLIC = {"static", "pages.index", "pages.set_language", "accounts.login", "accounts.register",
          "accounts.reset_request", "accounts.reset_password", "accounts.accept_invitation",
          "health.healthz", "contracts.verify", "prices.index", "prices.download",
          "prices.methodology", "prices.methodology_source", "api_docs.docs",
          "escrow.stripe_webhook",  # authenticated by Stripe's signature, not a login
          "manifests.driver",  # the driver signs with a one-time code, not a login
          "manifests.verify",  # the manifest PDF's QR code: number + token, no personal data
          "catalog.regions"}  # the region picker of the registration form
# Arguments that are public handles rather than scoped records (the manifest number is printed).
TOKEN_ARGS = {"token", "number"}


def _scan(doc):
    name = f"{doc.__tablename__}-{doc.id}.pdf"
    Path(current_app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)
    (Path(current_app.config["UPLOAD_DIR"]) / name).write_bytes(b"%PDF-1.4\n%test\n")
    doc.scan_file, doc.scan_mime = name, "application/pdf"
    db.session.flush()
    return doc


def owned_objects(org) -> dict[str, int]:
    """One object of each id-taking kind, owned by `org` (pending, so items can still change)."""
    licence = _scan(LicenceFactory(org=org, status="pending"))
    item = LicenceItemFactory(licence=licence)
    permit = _scan(PermitFactory(org=org))
    request_ = DisposalRequestFactory(generator=org, region_code=org.region_code)
    # its own item: the licence-item removal route deletes `item`
    quote = QuoteFactory(request=request_, licence_item=LicenceItemFactory(licence=licence))
    offer = StorefrontOfferFactory(operator=org)
    # The order's other party sits outside the regulator's region (4403), so a regulator sees the
    # order only through `org`, the generator.
    order = order_from_offer(org, OrganisationFactory(types=["operator"], region_code="441900"))
    return {"licence_id": licence.id, "item_id": item.id, "permit_id": permit.id,
            "org_id": org.id, "doc_id": licence.id, "kind": "licence", "request_id": request_.id,
            "quote_id": quote.id, "offer_id": offer.id, "order_id": order.id,
            "month": today().strftime("%Y-%m"),  # a settlement statement's month
            # sampling_id, document_id, revision_id: a sampling order, contract PDF and revision
            **contract_objects(org, order), **_dispute_objects(org, order),
            "change_id": _change_request(org).id, **manifest_objects(org, order),
            **_credential_objects(org), **collection_objects(org),
            "endpoint_id": _webhook_endpoint(org).id, "fmt": "csv",
            "account_id": _bank_account(org).id, **_payout_batch(org)}


def _payout_batch(org) -> dict[str, int]:
    """batch_id, line_id: a payout batch (finance's, API routes) with a line paying the org."""
    line = db.session.scalar(select(PayoutBatchLine).where(
        PayoutBatchLine.reference == f"PBAUTH-{org.id}"))
    if line is not None:
        return {"batch_id": line.batch_id, "line_id": line.id}
    batch = PayoutBatch(key=f"authorisation:{org.id}", minimum_fen=0, total_fen=100,
                        line_count=1, file_name="b.csv", file_csv="", sent_at=utcnow())
    db.session.add(batch)
    db.session.flush()
    line = PayoutBatchLine(batch_id=batch.id, org_id=org.id, gateway="bank", amount_fen=100,
                           reference=f"PBAUTH-{org.id}")
    db.session.add(line)
    db.session.flush()
    return {"batch_id": batch.id, "line_id": line.id}


def _bank_account(org) -> BankAccount:
    """The organisation's bank account on file, awaiting an admin's verification."""
    account = db.session.scalar(select(BankAccount).where(BankAccount.org_id == org.id))
    if account is None:
        account = BankAccount(org_id=org.id, account_name=org.name, bank_name="中国银行",
                              account_number="62170000000000001")
        db.session.add(account)
        db.session.flush()
    return account


def _webhook_endpoint(org) -> WebhookEndpoint:
    """A webhook endpoint of the organisation (its deliveries list, its replay route)."""
    endpoint = WebhookEndpoint(org_id=org.id, url="https://erp.example.cn/hooks",
                               events=["order.status_changed"], secret="whsec_test")
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def _change_request(org) -> OrgChangeRequest:
    """A pending change of the organisation's registered name (admins decide it)."""
    req = db.session.scalar(select(OrgChangeRequest).where(OrgChangeRequest.org_id == org.id,
                                                           OrgChangeRequest.status == "pending"))
    if req is not None:
        return req
    req = OrgChangeRequest(org_id=org.id, requested_by_id=UserFactory(org=org).id,
                           changes={"name": org.name + "（新）"}, previous={"name": org.name})
    db.session.add(req)
    db.session.commit()
    return req


def _credential_objects(org) -> dict[str, int]:
    """session_id, token_id: a browser session and an API token of the organisation's first user
    (the one the scoping test logs in as), which only that user may end."""
    user = db.session.scalar(select(User).where(User.org_id == org.id).order_by(User.id)) \
        or UserFactory(org=org)
    sid = sessions.sign_in(user, ip="192.0.2.1", user_agent="builder")
    session_id = db.session.scalar(select(UserSession.id).where(
        UserSession.sid_hash == sessions.sid_hash(sid)))
    issue_api_token(user)
    token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id)
                                 .order_by(ApiToken.id.desc()))
    return {"session_id": session_id, "token_id": token_id}


def _dispute_objects(org, order) -> dict[str, int]:
    """dispute_id, evidence_id: an open dispute on the order, with one file."""
    dispute = dispute_on(order, UserFactory(org=org))
    return {"dispute_id": dispute.id, "evidence_id": dispute.evidence[0].id}


def html_rules():
    return [r for r in current_app.url_map.iter_rules()
            if not r.endpoint.startswith("api.") and r.endpoint != "static"]


def build(rule, objects) -> str:
    path = rule.rule
    for arg in rule.arguments:
        path = re.sub(rf"<(?:\w+:)?{arg}>", str(objects[arg]), path)
    return path


def request(client, rule, path):
    if "GET" in rule.methods:
        return client.get(path)
    return client.post(path, data={"action": "verify", "reason": "x"})


def test_every_id_route_has_an_object_builder(app):
    objects = owned_objects(OrganisationFactory(types=["operator", "carrier"]))
    missing = {arg for r in html_rules() for arg in r.arguments
               if arg not in objects and arg not in TOKEN_ARGS}
    assert not missing, f"add builders for route arguments {missing} to this test"


def test_anonymous_is_sent_to_login_on_every_private_route(client):
    objects = owned_objects(OrganisationFactory(types=["operator", "carrier"]))
    for rule in html_rules():
        if rule.endpoint in PUBLIC:
            continue
        resp = request(client, rule, build(rule, objects))
        assert resp.status_code in (302, 401), (rule.rule, resp.status_code)
        if resp.status_code == 302:
            assert "/login" in resp.headers["Location"], rule.rule


def test_another_organisations_records_are_404_on_every_scoped_route(client):
    mine = OrganisationFactory(types=["generator", "operator", "carrier", "lab"])
    theirs = OrganisationFactory(types=["generator", "operator", "carrier", "lab"])
    me = UserFactory(org=mine)
    own, foreign = owned_objects(mine), owned_objects(theirs)
    login(client, me)
    checked = 0
    for rule in html_rules():
        if not rule.arguments or rule.arguments <= TOKEN_ARGS or rule.endpoint.startswith("admin."):
            continue
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        resp = request(client, rule, build(rule, foreign))
        assert resp.status_code == 404, (rule.rule, resp.status_code)
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
        # the same route works on the user's own record, so the 404 is scoping, not a broken route
        assert request(client, rule, build(rule, own)).status_code in (200, 302), rule.rule
        checked += 1
    assert checked >= 4


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_admin_pages_refuse_every_other_role(client, role, request):
    user = request.getfixturevalue(role)
    objects = owned_objects(OrganisationFactory(types=["operator", "carrier"], status="pending"))
    login(client, user)
    for rule in html_rules():
        if rule.endpoint.startswith("admin."):
            resp = globals()["request"](client, rule, build(rule, objects))
            assert resp.status_code == 403, (role, rule.rule, resp.status_code)


def test_admin_reaches_every_admin_page(client, admin):
    objects = owned_objects(OrganisationFactory(types=["operator", "carrier"]))
    login(client, admin)
    for rule in html_rules():
        if rule.endpoint.startswith("admin.") and "GET" in rule.methods:
            assert client.get(build(rule, objects)).status_code == 200, rule.rule


def test_regulator_reads_inside_its_region_and_not_outside(client, regulator):
    inside = OrganisationFactory(types=["operator", "carrier"], region_code="440306")
    outside = OrganisationFactory(types=["operator", "carrier"], region_code="441900")
    login(client, regulator)
    seen = 0
    for rule in html_rules():
        if not rule.arguments or "GET" not in rule.methods or rule.endpoint.startswith("admin.") \
                or rule.arguments <= TOKEN_ARGS:
            continue
        assert client.get(build(rule, owned_objects(inside))).status_code == 200, rule.rule
        assert client.get(build(rule, owned_objects(outside))).status_code == 404, rule.rule
        seen += 1
    assert seen >= 2


def test_regulators_cannot_write_anywhere(client, regulator):
    objects = owned_objects(OrganisationFactory(types=["operator", "carrier"], region_code="440306"))
    login(client, regulator)
    # Leaving, the language, the inbox, the regulator's own password, sessions and tokens, and
    # alert notes and sanctions, the regulator's only writes (DESIGN.md §1; their scoping is
    # tested in tests/web/test_oversight_scope.py).
    allowed = {"accounts.logout", "pages.set_language", "notifications.mark_read",
               "accounts.security", "accounts.end_user_session", "accounts.revoke_token",
               "oversight.update_alert", "oversight.impose_sanction",
               # their own webhook endpoints (alerts in their region): tests/api/test_webhooks_api.py
               "webhooks.create", "webhooks.delete", "webhooks.enable", "webhooks.replay"}
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    for rule in current_app.url_map.iter_rules():
        writes = rule.methods - {"GET", "HEAD", "OPTIONS"}
        if not writes or rule.endpoint in allowed or rule.endpoint.startswith("api."):
            continue
        resp = client.open(build(rule, {**objects, "token": "x"}), method=sorted(writes)[0],
                           data={"action": "verify", "reason": "x"})
        assert resp.status_code == 403, (rule.rule, resp.status_code)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


# What a suspended organisation's users may still send: leaving, a language, their own inbox.
SUSPENDED_WRITE_ALLOWED = {"accounts.logout", "pages.set_language", "notifications.mark_read"}


def _suspended_user():
    org = OrganisationFactory(types=["generator", "operator", "carrier", "lab"])
    user = UserFactory(org=org)
    objects = owned_objects(org)
    return user, objects


def _suspend(org):
    org.status, org.status_reason = "suspended", "test"
    db.session.commit()


def test_a_suspended_organisation_reads_what_it_read_before(client):
    user, objects = _suspended_user()
    login(client, user)
    reads = [r for r in html_rules() if "GET" in r.methods and r.endpoint not in PUBLIC]
    before = {r.rule: client.get(build(r, objects)).status_code for r in reads}
    _suspend(user.org)
    after = {r.rule: client.get(build(r, objects)).status_code for r in reads}
    assert after == before
    assert sum(status == 200 for status in after.values()) >= 20


def test_a_suspended_organisation_writes_nothing_anywhere(client):
    user, objects = _suspended_user()
    _suspend(user.org)
    login(client, user)
    statuses: dict[int, int] = {}
    for rule in current_app.url_map.iter_rules():
        writes = rule.methods - {"GET", "HEAD", "OPTIONS"}
        if not writes or rule.endpoint in SUSPENDED_WRITE_ALLOWED or rule.endpoint in PUBLIC \
                or rule.endpoint.startswith("api."):
            continue
        before = fingerprint()
        resp = client.open(build(rule, {**objects, "token": "x"}), method=sorted(writes)[0],
                           data={"action": "verify", "reason": "x"})
        # 403 from the guard; a form or state refusal before any write (422, 409, a flashed 302)
        assert resp.status_code in (302, 400, 403, 404, 405, 409, 422), (rule.rule, resp.status_code)
        statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
        assert fingerprint() == before, rule.rule
    assert statuses.get(403, 0) >= 10, statuses


def test_a_role_less_member_of_the_platform_organisation_sees_no_tenant_data(client, admin):
    member = UserFactory(org=admin.org, platform_role=None, is_org_admin=True)
    tenant = OrganisationFactory(types=["generator", "operator", "carrier", "lab"])
    objects = owned_objects(tenant)
    order = db.session.get(Order, objects["order_id"])
    secrets = [order.number, db.session.get(DisposalRequest, objects["request_id"]).number,
               db.session.get(Licence, objects["licence_id"]).number]
    login(client, member)
    for rule in html_rules():
        if "GET" not in rule.methods or rule.endpoint in PUBLIC or rule.arguments <= TOKEN_ARGS \
                and rule.arguments:
            continue
        resp = client.get(build(rule, objects))
        if rule.arguments:
            assert resp.status_code in (403, 404), (rule.rule, resp.status_code)
        else:
            page = resp.get_data(as_text=True)
            assert resp.status_code in (200, 302, 403), (rule.rule, resp.status_code)
            assert not [s for s in secrets if s in page], rule.rule
