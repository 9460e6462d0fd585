"""Shared fixtures: one user of each role, and logging in through the real form."""
from __future__ import annotations

import pytest

from tests.factories import (PASSWORD, LicenceItemFactory, OrganisationFactory, PlatformOrgFactory,
                             RegulatorOrgFactory, UserFactory)

__all__ = ["login", "generator", "operator", "carrier", "lab", "regulator", "admin", "finance",
           "other_generator", "PASSWORD"]


def login(client, user, password: str = PASSWORD):
    resp = client.post("/login", data={"email": user.email, "password": password})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def generator():
    return UserFactory(org=OrganisationFactory(types=["generator"]))


@pytest.fixture
def other_generator():
    return UserFactory(org=OrganisationFactory(types=["generator"], region_code="440605"))


@pytest.fixture
def operator():
    user = UserFactory(org=OrganisationFactory(types=["operator"], region_code="441900"))
    LicenceItemFactory(licence__org=user.org)
    return user


@pytest.fixture
def carrier():
    return UserFactory(org=OrganisationFactory(types=["carrier"], region_code="440106"))


@pytest.fixture
def lab():
    return UserFactory(org=OrganisationFactory(types=["lab"], region_code="440305"))


@pytest.fixture
def regulator():
    return UserFactory(org=RegulatorOrgFactory(scope_prefix="4403", region_code="440300"))


@pytest.fixture
def admin():
    return UserFactory(org=PlatformOrgFactory(), platform_role="admin")


@pytest.fixture
def finance():
    return UserFactory(org=PlatformOrgFactory(), platform_role="finance")
