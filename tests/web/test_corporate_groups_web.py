"""The admin sets an operator's corporate group on the organisation page; the operator's shop and
its regulator's profile page show it; a bad name is refused on the field and changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from market import db
from market.accounts.models import CorporateGroup, Organisation
from tests.factories import LicenceItemFactory, OrganisationFactory
from tests.fixtures import login


@pytest.fixture
def operator_org():
    org = OrganisationFactory(types=["operator"], region_code="440306", status="verified")
    LicenceItemFactory(licence__org=org)
    return org


@pytest.mark.parametrize("lang, saved", [("zh_CN", "所属集团已保存"), ("en", "Corporate group saved.")])
def test_admin_sets_a_group_shown_on_the_shop(client, admin, generator, operator_org, lang, saved):
    login(client, admin)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang.replace("_", "-")
    page = client.get(f"/admin/organisations/{operator_org.id}").get_data(as_text=True)
    assert 'data-testid="corporate-group-form"' in page
    resp = client.post(f"/admin/organisations/{operator_org.id}/group",
                       data={"corporate_group": "粤环控股集团"}, follow_redirects=True)
    assert resp.status_code == 200 and saved in resp.get_data(as_text=True)
    assert db.session.get(Organisation, operator_org.id).corporate_group.name == "粤环控股集团"
    client.post("/logout")
    login(client, generator)
    shop = client.get(f"/shops/{operator_org.id}").get_data(as_text=True)
    assert 'data-testid="shop-corporate-group"' in shop and "粤环控股集团" in shop


def test_a_too_long_name_is_refused_on_the_field(client, admin, operator_org):
    login(client, admin)
    resp = client.post(f"/admin/organisations/{operator_org.id}/group",
                       data={"corporate_group": "集" * 201})
    assert resp.status_code == 422
    assert 'data-field="corporate_group"' in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CorporateGroup)) == 0
    assert db.session.get(Organisation, operator_org.id).corporate_group_id is None
