"""Shared page mechanisms: skip link, labelled menu behind a toggle, code words in words, dates."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from flask_babel import force_locale

from market.web.i18n import date as date_filter, date_time, label
from tests.web.marketplace import as_user, order_from_offer


def test_every_page_has_a_skip_link_a_labelled_menu_and_a_toggle(client, generator):
    as_user(client, generator)
    page = client.get("/orders").get_data(as_text=True)
    assert re.search(r'<a class="skip-link" href="#main"', page)
    assert '<main id="main"' in page
    assert re.search(r'<nav class="mainnav" id="mainnav" aria-label="[^"]+"', page)
    assert 'aria-controls="mainnav"' in page and 'aria-expanded="false"' in page
    assert "js/ui.js" in page
    # the user's name stays in the header; role codes never do
    assert generator.name in page


def test_status_words_are_words_in_english_and_chinese(app):
    with app.test_request_context(), force_locale("en"):
        assert label("price_confirmed") == "price confirmed"
        assert label("in_transfer") == "in transfer"
        assert label(None) == "—"
    with app.test_request_context(), force_locale("zh_CN"):
        assert label("in_transfer") not in ("in_transfer", "in transfer")


def test_one_date_format_per_language(app):
    d = date(2026, 12, 6)
    moment = datetime(2026, 12, 6, 1, 30, tzinfo=timezone.utc)  # 09:30 in Asia/Shanghai
    with app.test_request_context(), force_locale("en"):
        assert date_filter(d) == "6 Dec 2026"
        assert date_filter(d, "short") == "6 Dec 2026"
        assert date_time(moment, "short") == "6 Dec 2026, 09:30"
    with app.test_request_context(), force_locale("zh_CN"):
        assert date_filter(d) == "2026-12-06"
        assert date_time(moment) == "2026-12-06 09:30"


def test_order_page_shows_the_progress_and_every_status_tab(client, generator, operator):
    order = order_from_offer(generator.org, operator.org, status="funded")
    as_user(client, generator)
    client.post("/language", data={"locale": "en"})
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-testid="order-progress"' in page
    assert re.search(r'data-state="funded" data-step="now" aria-current="step"', page)
    assert re.search(r'data-state="contract_signed" data-step="done"', page)
    listing = client.get("/orders").get_data(as_text=True)
    tabs = re.search(r'data-testid="status-tabs".*?</nav>', listing, re.S).group(0)
    for s in ("price_confirmed", "contract_signed", "funding", "settled", "disputed", "resolved"):
        assert f"status={s}" in tabs
    assert "price confirmed" in tabs and "price_confirmed<" not in tabs


def test_binding_forms_ask_for_confirmation_with_the_terms(client, generator, operator):
    order = order_from_offer(generator.org, operator.org)
    as_user(client, generator)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    form = re.search(r'<form[^>]*data-testid="cancel-order-form"[^>]*>', page, re.S).group(0)
    assert "data-confirm=" in form and "data-confirm-total=" in form
    assert "data-confirm-quantity=" in form and operator.org.name in form
