"""One format per language for dates, tonnes in lists, prices per tonne, explained scores and
every order status as a tab."""
from __future__ import annotations

import re
import pytest
from flask_babel import force_locale

from market.orders.state import TRANSITIONS
from market.web.i18n import date as date_filter
from tests.collection_factories import collector, publish
from tests.web.marketplace import as_user, text

def test_iso_dates_kept_as_text_take_the_page_format(app):
    with app.test_request_context(), force_locale("en"):
        assert date_filter("2026-12-06") == "6 Dec 2026"
        assert date_filter("2026-12-06T09:30:00+08:00") == "6 Dec 2026"
        assert date_filter("") == "—"
    with app.test_request_context(), force_locale("zh_CN"):
        assert date_filter("2026-12-06") == "2026-12-06"


def test_the_order_list_has_a_tab_for_every_status_of_the_state_table(client, generator):
    statuses = {s for pair in TRANSITIONS for s in pair}
    as_user(client, generator)
    listing = client.get("/orders").get_data(as_text=True)
    tabs = re.search(r'data-testid="status-tabs".*?</nav>', listing, re.S).group(0)
    missing = [s for s in statuses if f"status={s}\"" not in tabs]
    assert not missing, missing
    assert not re.search(r">\s*[a-z]+_[a-z_]+\s*<", tabs)  # no raw code shown as a tab name


@pytest.mark.parametrize("lang, price", [("en", "¥3,000.00 per t"), ("zh-CN", "每吨 ¥3,000.00")])
def test_a_collection_round_prices_per_tonne_and_dates_in_the_page_format(client, lang, price):
    operator = collector()
    rnd = publish(operator)  # ¥3.00 per kg in the data model
    as_user(client, operator, lang)
    page = text(client.get(f"/collection/rounds/{rnd.id}", headers={"Accept-Language": lang}))
    assert price in page and "per kg" not in page and "每千克" not in page
    if lang == "en":
        assert f"{rnd.day.day} {rnd.day.strftime('%b')} {rnd.day.year}" in page
        assert rnd.day.isoformat() not in page
    else:
        assert rnd.day.isoformat() in page


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_scores_are_explained_on_hover_and_to_screen_readers(client, generator, operator, lang):
    as_user(client, generator, lang)
    page = client.get(f"/shops/{operator.org_id}", headers={"Accept-Language": lang}).get_data(True)
    m = re.search(r'data-testid="credit-score".*?<span class="help" tabindex="0" title="([^"]+)" '
                  r'aria-describedby="([^"]+)"', page, re.S)
    assert m, "the credit score has no explanation"
    title, described_by = m.groups()
    assert re.search(rf'<span id="{described_by}" class="visually-hidden"[^>]*>{re.escape(title)}<',
                     page)
    assert ("100" in title) and (("late" in title) if lang == "en" else ("逾期" in title))
