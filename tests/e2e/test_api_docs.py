"""The API reference at /api/docs renders the OpenAPI document with the vendored Redoc, no CDN,
under a Content-Security-Policy that allows no inline script."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.committed


def test_api_docs_render_in_a_browser(page_for, live_server):
    page = page_for("en")
    errors, loaded_outside = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Only loads that completed count: the CSP blocks Redoc's footer logo from its CDN.
    page.on("requestfinished", lambda req: loaded_outside.append(req.url)
            if not req.url.startswith((live_server, "blob:", "data:")) else None)
    page.goto("/api/docs")
    page.get_by_text("Rate limits.").first.wait_for(timeout=30_000)
    assert page.get_by_text("Hazex API").first.is_visible()
    page.get_by_text("webhooks", exact=True).first.click()
    page.get_by_text("Register a webhook endpoint").first.wait_for(timeout=10_000)
    assert not errors, errors
    assert not loaded_outside, loaded_outside
