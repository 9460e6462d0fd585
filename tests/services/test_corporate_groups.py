"""Corporate groups: an admin puts operators under one owner (audited), and the price index then
counts them as one contributor — a cell published while they stood alone is suppressed once
they are grouped (DESIGN.md §7, pricing/disclosure.py)."""
from __future__ import annotations

import random
from datetime import date

import pytest
from sqlalchemy import func, select

from market import db, demo_history
from market.accounts.groups import set_corporate_group
from market.accounts.models import CorporateGroup, Organisation
from market.audit.models import AuditEvent
from market.errors import PermissionDenied, ValidationFailed
from market.prices import queries
from market.prices.services import publish
from market.uow import transaction
from tests.factories import PlatformOrgFactory, UserFactory
from tests.price_factories import Market

FEB = date(2026, 2, 1)
# Five lines over operators 0, 1, 2, 0, 1 of 2 000 kg each: operator tonnes 4 000, 4 000 and
# 2 000 — 40 % at most, so the cell passes the dominance rule (70 %) while they stand alone.
PRICES = [300_000, 310_000, 320_000, 330_000, 340_000]


@pytest.fixture
def platform_admin():
    return UserFactory(org=PlatformOrgFactory(), platform_role="admin")


def _cell():
    return queries.latest_cells(category="HW08", method="D10", region="44")[0]


def test_grouping_two_operators_suppresses_a_cell_they_now_dominate(platform_admin):
    market = Market()
    market.cell(PRICES, month="2026-02")
    alone = publish(FEB)
    assert _cell().status == "published" and alone.quality["primary_by_rule"]["dominance"] == 0

    first, second = market.operators[0][0], market.operators[1][0]
    set_corporate_group(platform_admin, first.id, "粤环控股集团")
    set_corporate_group(platform_admin, second.id, " 粤环控股集团 ")
    grouped = publish(FEB)

    assert grouped.id != alone.id and grouped.revised          # new inputs: a revision
    cell = _cell()
    assert (cell.status, cell.trades, cell.vwap) == ("primary", None, None)
    assert grouped.quality["primary_by_rule"]["dominance"] > 0
    assert db.session.scalar(select(func.count()).select_from(CorporateGroup)) == 1
    # the old release still reads as it was published
    assert queries.latest_cells(category="HW08", method="D10", region="44",
                                publication=alone)[0].status == "published"


def test_setting_and_clearing_a_group_is_audited(platform_admin):
    org = Market(operators=1).operators[0][0]
    set_corporate_group(platform_admin, org.id, "华南环境集团")
    set_corporate_group(platform_admin, org.id, "华南环境集团")        # no change: no event
    set_corporate_group(platform_admin, org.id, "")
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "organisation.corporate_group").order_by(AuditEvent.id)).all()
    assert [e.changes["corporate_group"] for e in events] == [[None, "华南环境集团"],
                                                             ["华南环境集团", None]]
    assert all(e.actor_user_id == platform_admin.id and e.object_id == str(org.id) for e in events)
    assert db.session.get(Organisation, org.id).corporate_group_id is None


def test_refusals_change_nothing(platform_admin):
    org = Market(operators=1).operators[0][0]
    member = UserFactory(org=org, platform_role=None, is_org_admin=True)
    with pytest.raises(PermissionDenied):
        set_corporate_group(member, org.id, "自封集团")
    with pytest.raises(ValidationFailed) as exc:
        set_corporate_group(platform_admin, org.id, "集" * 201)
    assert exc.value.field == "corporate_group"
    assert db.session.scalar(select(func.count()).select_from(CorporateGroup)) == 0
    assert db.session.get(Organisation, org.id).corporate_group_id is None
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "organisation.corporate_group")) == 0


def test_the_demo_history_has_two_operators_under_one_group():
    with transaction():
        operators, _generators, _offers = demo_history._orgs(
            random.Random(1), demo_history._ranges(), demo_history._regions(),
            (date(2025, 1, 1), date(2027, 12, 31)))
    grouped = [o for o in operators if o.corporate_group is not None]
    assert len(grouped) == 2 and {o.corporate_group.name for o in grouped} == {demo_history.GROUP_NAME}
