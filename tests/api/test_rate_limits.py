"""Per-token API rate limits: headers on every answer, 429 with Retry-After past the limit."""
from __future__ import annotations

import time

import pytest

from tests.api.conftest import bearer, error_of
from tests.factories import OrganisationFactory, UserFactory


@pytest.fixture
def three_per_minute(app):
    app.config["API_RATE_LIMIT"] = "3/60"
    yield
    app.config["API_RATE_LIMIT"] = "600/60"


def test_headers_then_429_with_retry_after_per_token(client, three_per_minute):
    user = UserFactory(org=OrganisationFactory(types=["generator"]))
    h = bearer(user)
    remaining = []
    for _ in range(3):
        resp = client.get("/api/v1/me", headers=h)
        assert resp.status_code == 200
        assert resp.headers["X-RateLimit-Limit"] == "3"
        remaining.append(int(resp.headers["X-RateLimit-Remaining"]))
        reset = int(resp.headers["X-RateLimit-Reset"])
        assert time.time() - 1 <= reset <= time.time() + 61
    assert remaining == [2, 1, 0]
    resp = client.get("/api/v1/me", headers=h)
    assert resp.status_code == 429
    assert error_of(resp)["code"] == "rate_limited"
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    # Another token of the same user has its own allowance.
    assert client.get("/api/v1/me", headers=bearer(user)).status_code == 200


def test_a_refused_token_is_not_counted(client, three_per_minute):
    resp = client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401 and "X-RateLimit-Limit" not in resp.headers


def test_api_docs_page_loads_vendored_redoc_without_inline_script(client):
    resp = client.get("/api/docs")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "/static/vendor/redoc/redoc.standalone.js" in html and 'spec-url="/api/v1/openapi.json"' in html
    assert "<script>" not in html and "cdn" not in html.lower()
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert client.get("/static/vendor/redoc/redoc.standalone.js").status_code == 200
