"""Each role logs in and lands on its own dashboard, in English and in Chinese."""
from __future__ import annotations

import html as htmllib
import re

import pytest

from tests.factories import PASSWORD

ROLES = ["generator", "operator", "carrier", "lab", "regulator", "finance", "admin"]
LANGS = {"en": "en", "zh": "zh-CN,zh;q=0.9"}
# Something only that role's dashboard shows.
ROLE_MARKERS = {
    "operator": 'data-testid="dashboard-licences"',
    "carrier": 'data-testid="dashboard-permits"',
    "lab": 'data-testid="dashboard-permits"',
    "regulator": 'data-testid="regulator-scope"',
    "admin": 'data-testid="admin-queues"',
}





def _text(fragment: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


_ADDRESSES = iter(range(1, 10**6))


def dashboard(app, user, accept_language: str) -> dict:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept_language
    # A fresh address per login, so the per-IP login limit does not trip in tests that log in often.
    n = next(_ADDRESSES)
    client.environ_base["REMOTE_ADDR"] = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"] == "/dashboard"
    page = client.get(resp.headers["Location"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    head = re.search(r'<header class="card dash-head">(.*?)</header>', html, re.S)
    title = re.search(r'<h1 data-testid="dashboard-title">(.*?)</h1>', html, re.S)
    org_name = re.search(r'data-testid="org-name">(.*?)</span>', html, re.S)
    role = re.search(r'data-testid="dashboard" data-role="([a-z]+)"', html)
    lang = re.search(r'<html lang="([^"]+)"', html)
    assert head and title and org_name and role and lang, html[:1000]
    return {"html": html, "head": head.group(1), "title": _text(title.group(1)),
            "org_name": _text(org_name.group(1)), "role": role.group(1), "lang": lang.group(1)}


@pytest.fixture
def users(request):
    return {role: request.getfixturevalue(role) for role in ROLES}


@pytest.mark.parametrize("language", sorted(LANGS))
def test_every_role_lands_on_its_own_dashboard(app, users, language):
    titles = {}
    for role, user in users.items():
        page = dashboard(app, user, LANGS[language])
        assert page["lang"] == ("en" if language == "en" else "zh-CN")
        assert page["role"] == role
        assert page["title"]
        assert page["org_name"] == user.org.name
        assert user.org.name in _text(page["head"])
        marker = ROLE_MARKERS.get(role)
        if marker:
            assert marker in page["html"], role
        for other, other_marker in ROLE_MARKERS.items():
            if other_marker != marker:
                assert other_marker not in page["html"], (role, other)
        assert 'data-testid="verification-banner"' not in page["html"]
        titles[role] = page["title"]
    assert len(set(titles.values())) == len(ROLES), titles


def test_english_titles(app, users):
    expected = {"generator": "Generator workspace", "operator": "Operator workspace",
                "carrier": "Carrier workspace", "lab": "Laboratory workspace",
                "regulator": "Regulator workspace", "finance": "Finance workspace",
                "admin": "Administration workspace"}
    for role, user in users.items():
        assert dashboard(app, user, "en")["title"] == expected[role]


def test_chinese_titles_are_translated(app, users):
    for role, user in users.items():
        en = dashboard(app, user, "en")["title"]
        zh = dashboard(app, user, LANGS["zh"])["title"]
        assert zh != en, role
        assert re.search(r"[\u4e00-\u9fff]", zh), zh


def test_operator_dashboard_lists_licences(app, operator):
    page = dashboard(app, operator, "en")
    assert operator.org.licences[0].number in page["html"]
    assert 'data-testid="no-valid-licence"' not in page["html"]


def test_pending_organisation_sees_the_banner(app, generator):
    generator.org.status = "pending"
    page = dashboard(app, generator, "en")
    assert 'data-testid="verification-banner"' in page["html"]
    assert page["role"] == "generator"
