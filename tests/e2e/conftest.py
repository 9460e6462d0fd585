"""Browser tests: the real app served on loopback, driven by Playwright in Debian's Chromium."""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page_for(browser, live_server):
    """A fresh browser context per language: page_for('en') or page_for('zh-CN')."""
    contexts = []

    def make(locale: str):
        ctx = browser.new_context(locale=locale, base_url=live_server)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def confirm(page) -> None:
    """Answer the confirmation a binding action asks for (static/js/ui.js) with yes."""
    page.get_by_test_id("confirm-dialog").get_by_test_id("confirm-yes").click()
