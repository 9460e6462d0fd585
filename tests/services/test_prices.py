"""Publications of the price index: preliminary, revised and final versions, all readable; the
observations come from settled disposal lines; the data-quality note and the release calendar."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from market import db
from market.audit.models import AuditEvent
from market.prices import calendar as cal
from market.prices import queries
from market.prices.jobs import publish_due
from market.prices.models import PriceCell, PricePublication, PublicationRun
from market.prices.services import publish
from tests.price_factories import Market

JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)
PRICES = [300_000, 310_000, 320_000, 330_000, 340_000]


@pytest.fixture
def market():
    m = Market()
    m.cell(PRICES, month="2026-01")
    m.cell([p + 10_000 for p in PRICES], month="2026-02")
    return m


def test_a_release_publishes_cells_from_settled_lines(market):
    pub = publish(FEB)
    assert (pub.version, pub.release, pub.revised, pub.label) == (1, "preliminary", False, "2026-02 v1")
    assert pub.quality["observations"] == 10 and pub.quality["excluded"]["outlier"] == 0
    feb = queries.latest_cells(category="HW08", method="D10", region="44")
    assert [(c.status, c.trades, c.vwap, c.p10, c.p90) for c in feb] == [
        ("published", 5, 330_000, 314_000, 346_000)]
    assert pub.methodology_version == "1.0" and len(pub.params_hash) == 64 == len(pub.inputs_hash)
    assert pub.index_series["laspeyres"]["*/*/*"]["points"][-1][0] == "2026-02"
    assert queries.index_series()[-1][0] == "2026-02"
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.object_type == "price_publication")) == "price.published"


def test_preliminary_revision_and_final_all_stay_readable(market):
    first = publish(FEB)
    assert publish(FEB).id == first.id                  # same inputs: no new version
    market.settle(345_000, month="2026-02", operator=1, generator=3)   # a late settlement
    revised = publish(FEB)
    assert (revised.version, revised.release, revised.revised, revised.label) == \
        (2, "preliminary", True, "2026-02 v2r")
    final = publish(FEB, "final")
    assert (final.version, final.release, final.revised) == (3, "final", False)
    assert publish(FEB, "final").id == final.id
    versions = queries.publication_versions(FEB)
    assert [v.label for v in versions] == ["2026-02 v1", "2026-02 v2r", "2026-02 v3"]
    old = queries.latest_cells(category="HW08", method="D10", region="44", publication=first)
    new = queries.latest_cells(category="HW08", method="D10", region="44", publication=final)
    assert old[0].trades == 5 and new[0].trades == 6 and old[0].vwap != new[0].vwap
    assert queries.latest_publication(FEB).id == final.id


def test_a_thin_cell_is_suppressed_and_points_to_a_roll_up(market):
    market.cell([200_000, 210_000], month="2026-02", method_code="D1")
    publish(FEB)
    thin = queries.latest_cells(category="HW08", method="D1", region="44")[0]
    assert (thin.status, thin.trades, thin.vwap) == ("primary", None, None)
    assert thin.nearest_published == "2026-02/HW08/*/44"
    assert db.session.scalar(select(func.count()).select_from(PriceCell).where(
        PriceCell.status != "published", PriceCell.vwap.isnot(None))) == 0


def test_government_priced_lines_stay_out_of_the_index(market):
    medical = Market(category="HW01")
    medical.cell(PRICES, month="2026-02")
    pub = publish(FEB)
    assert pub.quality["excluded"]["government_priced"] == 5
    assert queries.latest_cells(category="HW01") == []


def test_release_calendar_names_twelve_publication_days():
    days = cal.calendar(date(2026, 12, 6), 15)
    assert len(days) == 12 and days[0].day == date(2026, 12, 15)
    assert (days[0].preliminary, days[0].final) == (date(2026, 11, 1), date(2026, 9, 1))
    assert cal.calendar(date(2026, 12, 16), 15)[0].day == date(2027, 1, 15)


def test_publications_are_never_updated_in_place(market):
    pub = publish(FEB)
    assert db.session.scalar(select(func.count()).select_from(PricePublication)) == 1
    assert pub.cells and all(c.publication_id == pub.id for c in pub.cells)


def test_the_schedule_queues_the_months_releases_on_the_publication_day():
    assert publish_due("2026-12-14") == []
    assert publish_due("2026-12-15") == ["2026-11 preliminary", "2026-09 final"]
    runs = db.session.scalars(select(PublicationRun).order_by(PublicationRun.id)).all()
    assert [(r.reference_month, r.release, r.status) for r in runs] == [
        (date(2026, 11, 1), "preliminary", "queued"), (date(2026, 9, 1), "final", "queued")]
