"""No input answers 500: hostile values in every form field and query parameter of every route.

Routes come from the URL map (as in test_authorisation.py); the field names from every form class
of the application (and the query parameters the views read), so a new route or form is fuzzed
without touching this file. Each role (and an anonymous visitor) posts a fixed, derandomized
handful of hypothesis examples per route; a 5xx, an exception escaping the app (TESTING
propagates them) or a logged traceback fails the test.
"""
from __future__ import annotations

import importlib
import logging
import pkgutil
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from flask import current_app
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from wtforms import BooleanField, DateField, DecimalField, FileField, IntegerField
from wtforms.fields.core import UnboundField

import market
from market import db
from market.accounts.models import Licence
from market.config import ROOT
from market.listings.models import StorefrontOffer
from market.listings.validation import today
from market.web.forms import Form
from tests.api.conftest import bearer, error_of
from tests.factories import OrganisationFactory
from tests.fixtures import login
from tests.web.test_authorisation import ROLES, build, html_rules, owned_objects

# Values each field must parse or refuse on its own ...


HOSTILE = ["NaN", "-Infinity", "Infinity", "sNaN", "1e999999", "-1e999999", "9" * 40, "-" + "9" * 40,
           "²", "١٢", "0x10", "1_000", "-0", "1e-999999", "../../etc/passwd", "2026-02-30",
           "99999-01-01", "0001-01-01", "<script>", "' OR 1=1 --", " ", ""]
# ... and text no field can hold, refused for the whole request.
POISON = ["\x00", "a\x00b", "\ud800", "x\udfffy", "\x1b[0m", "x" * 25_000,
          "name\r\nSet-Cookie: a=b"]
HUGE_IDS = [2 ** 31, 2 ** 63, 10 ** 40]
EXAMPLES = 2  # per route and role; with every field hostile at once, enough to keep it < 90 s


def rotated(values: list[str], role: str) -> list[str]:
    """The same values in another order for each role: derandomized examples then differ."""
    k = (sum(map(ord, role)) * 7) % len(values)
    return values[k:] + values[:k]


def _form_classes() -> list[type]:
    for info in pkgutil.walk_packages(market.__path__, "market."):
        if info.name.endswith(".forms"):
            importlib.import_module(info.name)
    seen, todo = [], [FlaskForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("market.") and sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return seen


def _fields() -> dict[str, str]:
    """Every field name of every form, with a benign value of its kind."""
    day = today()
    fields: dict[str, str] = {}
    for cls in _form_classes():
        for name in dir(cls):
            unbound = getattr(cls, name, None)
            if not isinstance(unbound, UnboundField):
                continue
            kind = unbound.field_class
            if issubclass(kind, DateField):
                fields[name] = (day + timedelta(days=3)).isoformat()
            elif issubclass(kind, (DecimalField, IntegerField)):
                fields[name] = "1"
            elif issubclass(kind, BooleanField):
                fields[name] = "y"
            elif not issubclass(kind, FileField):
                fields[name] = "x"
    return fields


def _query_names() -> set[str]:
    """Query parameters the views read by name (request.args.get("…"))."""
    names = set()
    for path in (ROOT / "market").rglob("*.py"):
        names |= set(re.findall(r'request\.args\.get\(\s*"(\w+)"', path.read_text()))
    return names


@pytest.fixture
def server_log(caplog):
    caplog.set_level(logging.WARNING)
    yield caplog
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert not tracebacks, [r.getMessage() for r in tracebacks]


def encoded(values: dict[str, str]) -> str:
    """A form or query string that can carry lone surrogates (as their UTF-8-style bytes)."""
    return urlencode(values, encoding="utf-8", errors="surrogatepass")


def _user(role, request):
    if role == "anonymous":
        return None
    return request.getfixturevalue(role)


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_no_route_answers_5xx_to_hostile_input(client, role, request, server_log):
    user = _user(role, request)
    org = user.org if user is not None else OrganisationFactory(types=["operator", "carrier"])
    objects = {**owned_objects(org), "token": "x"}
    fields = _fields()
    query_names = sorted(_query_names() | set(fields))
    field_names = sorted(fields)
    if user is not None:
        login(client, user)
    failures = []

    for rule in html_rules():
        if rule.endpoint == "accounts.logout":
            continue
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        names = query_names if method == "GET" else field_names

        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(hostile=st.fixed_dictionaries({n: st.sampled_from(rotated(HOSTILE, role))
                                              for n in names}),
               poison=st.one_of(st.none(), st.tuples(st.sampled_from(names),
                                                      st.sampled_from(rotated(POISON, role)))),
               huge=st.sampled_from([None, None, *HUGE_IDS]))
        def attack(hostile, poison, huge):
            # every field at once, each with its own hostile value; perhaps one poisoned
            if poison is not None:
                hostile = {**hostile, poison[0]: poison[1]}
            ids = {k: (huge if huge is not None and isinstance(v, int) else v)
                   for k, v in objects.items()}
            path = build(rule, ids)
            try:
                if method == "GET":
                    resp = client.get(f"{path}?{encoded(hostile)}")
                else:
                    resp = client.open(path, method=method, data=encoded({**fields, **hostile}),
                                       content_type="application/x-www-form-urlencoded")
            except Exception as exc:  # noqa: BLE001 — TESTING propagates the app's exceptions
                failures.append((rule.rule, hostile, huge, repr(exc)[:300]))
                return
            if resp.status_code >= 500:
                failures.append((rule.rule, hostile, huge, resp.status_code))

        attack()
    assert not failures, "\n".join(map(str, failures[:40])) + f"\n({len(failures)} failures)"


def test_every_form_derives_from_the_checked_base_form():
    loose = [c.__qualname__ for c in _form_classes() if not issubclass(c, Form)]
    assert not loose, f"derive these from market.web.forms.Form: {loose}"


# --- the 500s found by hand, now a 4xx naming the field in the user's language ---------------

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}


def test_login_with_a_nul_byte_is_refused_naming_the_field(client):
    resp = client.post("/login", data={"email": "a\x00@b.cn", "password": "x"}, headers=ZH)
    assert resp.status_code == 422
    assert "email 不得包含控制字符或无效字符" in resp.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/reset", "/register", "/requests/new", "/offers/new"])
def test_lone_surrogates_and_control_characters_are_refused(client, operator, path):
    login(client, operator)
    resp = client.post(path, data={"email": "x\x1by", "name": "x\x1by", "notes": "x"}, headers=ZH)
    assert resp.status_code == 422, path
    assert "不得包含控制字符或无效字符" in resp.get_data(as_text=True)
    # a lone surrogate cannot even be sent as text: its bytes arrive as invalid UTF-8, which is
    # read as U+FFFD, a character like any other
    resp = client.post(path, data=encoded({"email": "\ud800", "name": "\ud800"}), headers=ZH,
                       content_type="application/x-www-form-urlencoded")
    assert resp.status_code < 500


def test_over_long_query_values_are_refused(client, admin):
    login(client, admin)
    resp = client.get("/admin/audit", query_string={"action": "x" * 3000}, headers=EN)
    assert resp.status_code == 422
    assert "action must be at most 2000 characters" in resp.get_data(as_text=True)


@pytest.mark.parametrize("actor", ["NaN", "1e999999", "9" * 30, "99999999999"])
def test_absurd_numbers_in_a_number_field_are_a_field_error(client, admin, actor):
    login(client, admin)
    resp = client.get("/admin/audit", query_string={"actor": actor}, headers=ZH)
    assert resp.status_code == 422
    # int() refuses NaN itself ("不是有效的整数"); the others parse and are refused by the base form
    assert "请输入一个普通的数字" in resp.get_data(as_text=True) or actor in ("NaN", "1e999999")


@pytest.mark.parametrize("price", ["NaN", "sNaN", "Infinity", "-Infinity", "1e999999"])
def test_non_finite_prices_in_an_offer_are_refused_and_nothing_is_stored(client, operator, price):
    login(client, operator)
    before = db.session.scalar(select(func.count()).select_from(StorefrontOffer))
    resp = client.post("/offers/new", data={"unit_price": price, "min_t": price, "max_t": "1"},
                       headers=EN)
    assert resp.status_code == 422
    assert "Enter an ordinary number." in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(StorefrontOffer)) == before


def test_ids_beyond_any_stored_id_are_404(client, generator):
    login(client, generator)
    for path in ("/orders/99999999999999999999", f"/orders/{2**31}", "/requests/18446744073709551616"):
        assert client.get(path).status_code == 404, path


def test_ledger_cursor_beyond_64_bits_is_refused_on_the_page(client, finance):
    login(client, finance)
    for before in ("99999999999999999999", "²"):
        resp = client.get("/finance/ledger", query_string={"account": "bank:main", "before": before},
                          headers=EN)
        assert resp.status_code == 200
        assert "before must be a whole number" in resp.get_data(as_text=True)


def test_a_line_break_in_a_one_line_field_is_refused(client, operator):
    login(client, operator)
    before = db.session.scalar(select(func.count()).select_from(Licence))
    resp = client.post("/account/licences", data={
        "number": "L-1\r\nContent-Type: text/html", "kind": "comprehensive",
        "valid_from": "2025-01-01", "valid_to": "2029-12-31"}, headers=EN)
    assert resp.status_code == 422
    assert "This field must be on one line." in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Licence)) == before


def test_an_upload_file_name_with_a_line_break_is_refused(client, operator):
    # RFC 2231 (filename*=) is how a line break can reach a file name through multipart
    login(client, operator)
    before = db.session.scalar(select(func.count()).select_from(Licence))
    parts = [("number", "L-2"), ("kind", "comprehensive"), ("valid_from", "2025-01-01"),
             ("valid_to", "2029-12-31")]
    body = "".join(f'--B\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                   for k, v in parts)
    body += ("--B\r\nContent-Disposition: form-data; name=\"scan\"; filename*=UTF-8''a%0D%0Ab.pdf"
             "\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--B--\r\n")
    resp = client.post("/account/licences", data=body.encode(), headers=EN,
                       content_type="multipart/form-data; boundary=B")
    assert resp.status_code == 422
    assert "scan must be on one line" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Licence)) == before


def test_api_refuses_deep_json_and_lone_surrogates(client, finance):
    headers = bearer(finance)
    deep = "[" * 100_000 + "]" * 100_000
    resp = client.post("/api/v1/finance/receipts", data=deep, headers={
        **headers, "Content-Type": "application/json"})
    assert resp.status_code == 400 and error_of(resp)["code"] == "bad_request"
    resp = client.post("/api/v1/finance/receipts", headers=headers, data=(
        '{"reference": "\\ud800", "amount_fen": 1, "received_on": "2026-01-01",'
        ' "payer_name": "p", "bank_ref": "b"}'), content_type="application/json")
    assert resp.status_code == 422 and error_of(resp)["field"] == "reference"


def _api_query_names() -> set[str]:
    names = {"cursor", "limit"}
    for path in (ROOT / "market" / "api").rglob("*.py"):
        names |= set(re.findall(r'(?:query_str|query_int|_choice_param)\(\s*"(\w+)"', path.read_text()))
    return names


@pytest.mark.parametrize("role", ["generator", "operator", "regulator", "finance"])
def test_no_api_read_answers_5xx_to_hostile_query_strings(client, role, request, server_log):
    user = request.getfixturevalue(role)
    objects = owned_objects(user.org)
    headers = bearer(user)
    names = sorted(_api_query_names())
    failures = []
    for rule in current_app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or "GET" not in rule.methods:
            continue

        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(hostile=st.fixed_dictionaries({n: st.sampled_from(rotated(HOSTILE, role))
                                              for n in names}),
               poison=st.one_of(st.none(), st.tuples(st.sampled_from(names),
                                                      st.sampled_from(rotated(POISON, role)))),
               huge=st.sampled_from([None, *HUGE_IDS]))
        def attack(hostile, poison, huge):
            if poison is not None:
                hostile = {**hostile, poison[0]: poison[1]}
            ids = {k: (huge if huge is not None and isinstance(v, int) else v)
                   for k, v in {**objects, "token": "x"}.items()}
            try:
                resp = client.get(f"{build(rule, ids)}?{encoded(hostile)}", headers=headers)
            except Exception as exc:  # noqa: BLE001 — TESTING propagates the app's exceptions
                failures.append((rule.rule, hostile, huge, repr(exc)[:300]))
                return
            if resp.status_code >= 500:
                failures.append((rule.rule, hostile, huge, resp.status_code))

        attack()
    assert not failures, "\n".join(map(str, failures[:40])) + f"\n({len(failures)} failures)"


def test_api_checks_every_string_of_a_json_body_once(client, lab):
    """A NUL deep inside a list (a sampling result's method) is refused by the body check, with
    the value's path; a body nested 40 levels is a 400."""
    headers = bearer(lab)
    resp = client.post("/api/v1/sampling/1/results", headers=headers, json={
        "results": [{"analyte": "ph", "value": "7", "method": "GB\x00T"}]})
    assert resp.status_code == 422 and error_of(resp)["field"] == "results[0].method"
    nested: dict = {}
    for _ in range(40):
        nested = {"a": nested}
    resp = client.post("/api/v1/sampling/1/results", headers=headers, json=nested)
    assert resp.status_code == 400 and error_of(resp)["code"] == "bad_request"
