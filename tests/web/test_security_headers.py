"""Security headers, downloads that cannot run in the browser, and the client address behind
trusted proxies (TRUSTED_PROXY_COUNT)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from market import create_app, db
from market.accounts.models import UserSession
from market.audit.models import AuditEvent
from market.config import ROOT
from market.contracts.models import Signature
from market.escrow.dispute_models import DisputeEvidence
from market.web.downloads import safe_filename
from market.web.headers import page_csp
from tests.api.conftest import bearer
from tests.escrow_factories import dispute_on
from tests.factories import PASSWORD, LicenceFactory
from tests.sampling_factories import order_for, render_all
from tests.fixtures import login
from tests.web.marketplace import order_from_offer

HTML_AS_PDF = b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>"


def directives(resp) -> dict[str, str]:
    policy = resp.headers["Content-Security-Policy"]
    return {d.split()[0]: " ".join(d.split()[1:]) for d in policy.split(";") if d.strip()}


# --- pages ------------------------------------------------------------------------------------------

def test_pages_carry_the_security_headers(client):
    resp = client.get("/login")
    csp = directives(resp)
    assert csp["script-src"] == "'self'" and "unsafe-inline" not in resp.headers["Content-Security-Policy"]
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert csp["default-src"] == "'self'" and csp["form-action"] == "'self'"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in resp.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in resp.headers  # development runs on http
    assert "no-store" not in resp.headers.get("Cache-Control", "")  # a public page


def test_errors_and_api_answers_carry_them_too(client):
    for resp in (client.get("/no-such-page"), client.get("/api/v1/me")):
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


def test_authenticated_pages_and_api_answers_are_never_stored(client, generator):
    login(client, generator)
    for path in ("/dashboard", "/account/security", "/inbox"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert resp.headers["Cache-Control"] == "no-store", path
    api = current_app.test_client().get("/api/v1/me", headers=bearer(generator))
    assert api.headers["Cache-Control"] == "no-store"


def test_static_files_stay_cacheable(client, generator):
    login(client, generator)
    resp = client.get("/static/hazex.css")
    assert resp.status_code == 200 and "no-store" not in resp.headers.get("Cache-Control", "")


def test_stripe_policy_allows_only_stripes_script_and_frames():
    csp = page_csp(stripe=True)
    assert "script-src 'self' https://js.stripe.com;" in csp
    assert "frame-src https://js.stripe.com https://hooks.stripe.com;" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert "js.stripe.com" not in page_csp(stripe=False)


def test_production_sends_hsts(app):
    db.session.commit()  # the production app's teardown removes the shared session
    prod = create_app(HAZEX_ENV="production", SECRET_KEY="prod-secret-for-test",
                      DATABASE_URL=app.config["DATABASE_URL"], REDIS_URL=app.config["REDIS_URL"])
    resp = prod.test_client().get("/login")
    assert resp.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def test_no_template_has_inline_script():
    """The CSP forbids inline script: page scripts live in static/js."""
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, JS_URL):
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0)[:60]}" for m in pattern.finditer(text)]
    assert offenders == []
    assert (ROOT / "static" / "js" / "card-payment.js").exists()


# --- downloads --------------------------------------------------------------------------------------

def _licence_with_scan(operator, number: str, data: bytes = HTML_AS_PDF):
    licence = LicenceFactory(org=operator.org, number=number)
    folder = Path(current_app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"scan-{licence.id}.pdf").write_bytes(data)
    licence.scan_file, licence.scan_mime = f"scan-{licence.id}.pdf", "application/pdf"
    db.session.flush()
    return licence


def test_a_scan_is_a_download_that_cannot_run(client, operator):
    licence = _licence_with_scan(operator, "粤危废-2025-001")
    login(client, operator)
    resp = client.get(f"/account/licences/{licence.id}/scan")
    assert resp.status_code == 200 and resp.data == HTML_AS_PDF
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E7%B2%A4" in disposition  # RFC 5987, the Chinese name kept
    assert resp.mimetype == "application/pdf"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert directives(resp) == {"default-src": "'none'", "frame-ancestors": "'none'", "sandbox": ""}
    assert resp.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("number", ['LIC"\r\nSet-Cookie: evil=1', "a\nb;c=\"d\"", "\x01\x1b[31m", "../../etc/passwd"])
def test_hostile_file_names_are_sanitised(client, operator, number):
    licence = _licence_with_scan(operator, number)
    login(client, operator)
    resp = client.get(f"/account/licences/{licence.id}/scan")
    assert resp.status_code == 200
    assert "Set-Cookie: evil" not in str(resp.headers) and "evil" not in resp.headers.get("Set-Cookie", "")
    disposition = resp.headers["Content-Disposition"]
    assert not re.search(r"[\r\n\x00]", disposition)
    name = re.search(r'filename="?([^";]*)', disposition).group(1)
    assert '"' not in name and "/" not in name and "\\" not in name


def test_dispute_evidence_is_served_as_an_attachment(client, generator, operator):
    order = order_from_offer(generator.org, operator.org)
    dispute = dispute_on(order, generator)
    evidence = dispute.evidence[0]
    evidence.original_name = '磅单"\r\n.html'
    db.session.flush()
    login(client, generator)
    resp = client.get(f"/disputes/{dispute.id}/evidence/{evidence.id}")
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert "\r" not in resp.headers["Content-Disposition"]
    assert "sandbox" in resp.headers["Content-Security-Policy"]
    assert db.session.get(DisputeEvidence, evidence.id).original_name == '磅单"\r\n.html'


@pytest.mark.parametrize("raw, safe", [
    ("report.pdf", "report.pdf"),
    ('a"b\r\nc.pdf', "a_bc.pdf"),
    ("../../etc/passwd", "_.._etc_passwd"),
    ("磅单 2025.pdf", "磅单 2025.pdf"),
    ("\u202egpj.exe", "gpj.exe"),  # no right-to-left override
    ("", "download"),
    ("...", "download"),
    ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
])
def test_safe_filename(raw, safe):
    assert safe_filename(raw) == safe


# --- client address behind proxies ------------------------------------------------------------------

@pytest.fixture
def proxied_app(app):
    """A second application behind one proxy. It makes its own sessions, which cannot join the
    test's savepoint, so the tests that use it commit for real (marker `committed`)."""
    db.session.commit()
    proxied = create_app(DATABASE_URL=app.config["DATABASE_URL"], REDIS_URL=app.config["REDIS_URL"],
                         TESTING=True, WTF_CSRF_ENABLED=False, TRUSTED_PROXY_COUNT=1,
                         LOGIN_FAILURES_PER_ADDRESS="3 per minute")
    return proxied


def _last_login_event() -> AuditEvent:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.login")
                              .order_by(AuditEvent.id.desc())).first()


@pytest.mark.committed
def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(proxied_app, generator):
    client = proxied_app.test_client()
    resp = client.post("/login", data={"email": generator.email, "password": PASSWORD},
                       headers={"X-Forwarded-For": "198.51.100.23", "X-Forwarded-Proto": "https"},
                       environ_overrides={"REMOTE_ADDR": "10.0.0.2"})
    assert resp.status_code == 302
    assert _last_login_event().ip == "198.51.100.23"
    assert db.session.scalar(select(UserSession.ip).where(UserSession.user_id == generator.id)) \
        == "198.51.100.23"


@pytest.mark.committed
def test_behind_a_trusted_proxy_limits_count_per_real_client(proxied_app, generator):
    client = proxied_app.test_client()
    via_proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for i in range(3):
        resp = client.post("/login", data={"email": f"guess{i}@example.cn", "password": "wrong-pass"},
                           headers={"X-Forwarded-For": "198.51.100.66"}, environ_overrides=via_proxy)
        assert resp.status_code == 401
    blocked = client.post("/login", data={"email": generator.email, "password": PASSWORD},
                          headers={"X-Forwarded-For": "198.51.100.66"}, environ_overrides=via_proxy)
    assert blocked.status_code == 429
    # Another client behind the same proxy is not held up by the first one's failures.
    ok = client.post("/login", data={"email": generator.email, "password": PASSWORD},
                     headers={"X-Forwarded-For": "198.51.100.67"}, environ_overrides=via_proxy)
    assert ok.status_code == 302


def test_without_trusted_proxies_forwarded_headers_are_ignored(client, generator):
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    resp = client.post("/login", data={"email": generator.email, "password": PASSWORD},
                       headers={"X-Forwarded-For": "203.0.113.99"},
                       environ_overrides={"REMOTE_ADDR": "192.0.2.44"})
    assert resp.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before + 1
    assert _last_login_event().ip == "192.0.2.44"


def test_behind_a_trusted_proxy_a_contract_signature_records_the_real_client(
        proxied_app, generator, operator):
    order = order_for(generator, operator, sampling=False)
    render_all()
    db.session.commit()
    resp = proxied_app.test_client().post(
        f"/api/v1/orders/{order.id}/contract/sign", headers={**bearer(generator),
                                                            "X-Forwarded-For": "198.51.100.88"},
        json={"password": PASSWORD}, environ_overrides={"REMOTE_ADDR": "10.0.0.2"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    signature = db.session.scalars(select(Signature)).one()
    assert signature.ip == "198.51.100.88"


def test_only_pages_that_draw_charts_allow_style_attributes(client):
    assert "style-src-attr" not in client.get("/login").headers["Content-Security-Policy"]
    resp = client.get("/prices/")
    assert resp.status_code == 200
    policy = dict(d.strip().split(" ", 1) for d in resp.headers["Content-Security-Policy"].split(";"))
    assert policy["style-src-attr"] == "'unsafe-inline'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
