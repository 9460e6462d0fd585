"""Price checks: where a price sits in the latest published cell, the two regulator alerts
(below the alert floor, far below the operator's own history), government tariffs."""
from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from market import db
from market.errors import ValidationFailed
from market.listings import offers as offer_svc
from market.listings import quotes as svc
from market.listings.models import Quote, StorefrontOffer
from market.listings.services import create_request
from market.oversight.models import Alert
from market.prices.checks import BELOW_FLOOR, BELOW_OWN_HISTORY, check_price
from market.prices.services import publish, set_tariff
from tests.escrow_factories import make_order
from tests.factories import LicenceItemFactory
from tests.listing_factories import quote_data, request_data
from tests.price_factories import Market

FEB = date(2026, 2, 1)


@pytest.fixture(autouse=True)
def _english():
    with force_locale("en"):
        yield


@pytest.fixture
def published():
    m = Market()
    m.cell([300_000, 310_000, 320_000, 330_000, 340_000], month="2026-01")
    m.cell([310_000, 320_000, 330_000, 340_000, 350_000], month="2026-02")
    return publish(FEB)


def alerts(rule: str) -> list[Alert]:
    return list(db.session.scalars(select(Alert).where(Alert.rule_id == rule)))


def test_bands_against_the_latest_published_cell(published):
    assert check_price("HW08", "D10", "440306", 300_000).band == "below_p10"
    assert check_price("HW08", "D10", "440306", 330_000).band == "within"
    inside = check_price("HW08", "D10", "440306", 330_000)
    assert (inside.cell.period, inside.cell.p10, inside.cell.p90, inside.lookup.level) == \
        ("2026-02", 314_000, 346_000, "cell")
    assert check_price("HW08", "D10", "440306", 360_000).band == "above_p90"
    # no D9 cell: the category in the province, all methods
    assert check_price("HW08", "D9", "440306", 330_000).lookup.level == "province"
    # no cell in Guangxi: national
    assert check_price("HW08", "D10", "450100", 330_000).lookup.level == "national"
    assert check_price("HW49", "D10", "440306", 330_000) is None
    # the floor: the highest of the 12-month p5, half the median and the cost floor (none)
    assert inside.floor == max(published.floors["HW08/D10/44"], 330_000 // 2)


def test_a_quote_below_the_floor_raises_a_regulator_alert(published, generator, operator):
    req = create_request(generator, **request_data())
    svc.submit_quote(operator, req.id, **quote_data(unit_price_fen_per_t=330_000))
    assert alerts(BELOW_FLOOR) == []
    svc.withdraw_quote(operator, db.session.scalar(select(Quote.id)))
    quote = svc.submit_quote(operator, req.id, **quote_data(unit_price_fen_per_t=100_000))
    [alert] = alerts(BELOW_FLOOR)
    assert (alert.subject, alert.severity, alert.status) == (f"quote:{quote.id}", "warning", "open")
    assert alert.operator_org_id == operator.org_id and alert.generator_org_id == generator.org_id
    assert alert.pickup_region == "440306" and alert.data["floor_fen_per_t"] > 100_000


def test_a_storefront_price_below_the_floor_raises_a_regulator_alert(published, operator):
    offer = offer_svc.create_offer(operator, category="HW08", method_code="R9",
                                   service_region_prefixes=["44"], min_kg=100, max_kg=10_000,
                                   unit_price_fen_per_t=50_000)
    [alert] = alerts(BELOW_FLOOR)
    assert alert.subject == f"offer:{offer.id}:50000" and alert.operator_region == "441900"


def test_pricing_far_below_ones_own_history_raises_a_regulator_alert(generator, operator):
    for _ in range(3):
        make_order(generator.org, operator.org, price=300_000, category="HW08")
    req = create_request(generator, **request_data())
    svc.submit_quote(operator, req.id, **quote_data(unit_price_fen_per_t=160_000))
    assert alerts(BELOW_OWN_HISTORY) == []          # above half of 300 000
    svc.withdraw_quote(operator, db.session.scalar(select(Quote.id)))
    quote = svc.submit_quote(operator, req.id, **quote_data(unit_price_fen_per_t=140_000))
    [alert] = alerts(BELOW_OWN_HISTORY)
    assert alert.subject == f"quote:{quote.id}"
    assert alert.data["own_median_fen_per_t"] == 300_000 and alert.data["orders"] == 3


def test_government_priced_quotes_must_equal_the_tariff(generator, operator):
    LicenceItemFactory(licence__org=operator.org, category_code="HW01", method_codes=["D10"],
                       operations=["收集", "贮存", "处置"])
    req = create_request(generator, **request_data(category="HW01", waste_code=None))
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(Quote))
    with pytest.raises(ValidationFailed) as no_tariff:
        svc.submit_quote(operator, req.id, **quote_data(unit_price_fen_per_t=280_000))
    assert no_tariff.value.field == "unit_price_fen_per_t"
    set_tariff(None, category_code="HW01", region_prefix="44", unit_price_fen_per_t=280_000,
               valid_from=date(2025, 1, 1), source="粤发改价格")
    with pytest.raises(ValidationFailed) as wrong:
        svc.submit_quote(operator, req.id, **quote_data(unit_price_fen_per_t=250_000))
    assert wrong.value.field == "unit_price_fen_per_t" and "¥2,800.00" in wrong.value.message
    assert db.session.scalar(select(func.count()).select_from(Quote)) == before
    assert svc.submit_quote(operator, req.id, **quote_data(unit_price_fen_per_t=280_000)).id


def test_government_priced_storefront_price_must_equal_the_tariff(operator):
    LicenceItemFactory(licence__org=operator.org, category_code="HW01", method_codes=["D10"],
                       operations=["收集", "贮存", "处置"])
    set_tariff(None, category_code="HW01", region_prefix="44", unit_price_fen_per_t=280_000,
               valid_from=date(2025, 1, 1))
    data = dict(category="HW01", method_code="D10", service_region_prefixes=["44"], min_kg=100,
                max_kg=10_000)
    db.session.commit()
    with pytest.raises(ValidationFailed) as err:
        offer_svc.create_offer(operator, unit_price_fen_per_t=1, **data)
    assert err.value.field == "unit_price_fen_per_t"
    assert db.session.scalar(select(func.count()).select_from(StorefrontOffer)) == 0
    assert offer_svc.create_offer(operator, unit_price_fen_per_t=280_000, **data).id
