"""A collector publishes a round with its price in yuan per tonne, as every price is shown."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from market import db
from market.collection.models import CollectionRound
from market.listings.validation import today
from tests.collection_factories import collector
from tests.web.marketplace import as_user, counts, text


def _form(**amounts) -> dict:
    day = today() + timedelta(days=7)
    return {"date": day.isoformat(), "window_start": "09:00", "window_end": "17:00",
            "categories": "HW08", "vehicle_capacity_kg": "1000",
            "booking_closes_at": f"{(day - timedelta(days=1)).isoformat()}T18:00",
            "repeat": "none", "region_codes": ["440605"], **amounts}


def test_the_round_keeps_the_price_typed_per_tonne_as_fen_per_kg(client):
    user = collector()
    as_user(client, user)
    page = text(client.get("/collection/rounds/new"))
    assert "Price (yuan per tonne; negative: you pay)" in page
    resp = client.post("/collection/rounds/new", data=_form(price="3000", minimum="100.50"))
    assert resp.status_code == 302, text(resp)[:2000]
    rnd = db.session.scalars(select(CollectionRound)
                             .where(CollectionRound.operator_id == user.org_id)).one()
    assert (rnd.price_fen_per_kg, rnd.minimum_fen) == (300, 10_050)
    assert "¥3,000.00 per t" in text(client.get(f"/collection/rounds/{rnd.id}"))


@pytest.mark.parametrize("lang, price, minimum, field, message", [
    ("en", "3005", "0", "price", "Enter the price in steps of ¥10 per tonne (1 fen per kg)."),
    ("zh-CN", "3005", "0", "price", "请按每吨 10 元（即每千克 1 分）的整数倍填写价格。"),
    ("en", "", "0", "price", "This field is required."),
    ("en", "3000", "-1", "minimum", "Number must be at least 0."),
])
def test_a_price_the_round_cannot_keep_is_refused_at_its_field(client, lang, price, minimum,
                                                                field, message):
    as_user(client, collector(), lang=lang)
    before = counts()
    resp = client.post("/collection/rounds/new", data=_form(price=price, minimum=minimum))
    assert resp.status_code == 422
    assert message in text(resp)
    assert 'aria-invalid="true"' in _input(resp, field)
    assert counts() == before


def test_a_paid_round_with_a_minimum_charge_is_refused_at_the_minimum(client):
    """A negative price means the collector pays; the service then allows no minimum charge."""
    as_user(client, collector())
    before = counts()
    resp = client.post("/collection/rounds/new", data=_form(price="-500", minimum="50"))
    assert resp.status_code == 422
    assert "A round that pays for the waste has no minimum charge." in text(resp)
    assert 'aria-invalid="true"' in _input(resp, "minimum")
    assert 'aria-invalid' not in _input(resp, "price")
    assert counts() == before


def _input(resp, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', resp.get_data(as_text=True)).group(0)
