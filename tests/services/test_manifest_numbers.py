"""Manifest numbers under parallel creation on real PostgreSQL: unique and gapless per city and
year, even when creations roll back. These tests commit."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from market import db
from market.manifests import numbering
from market.manifests.models import Manifest
from market.orders import lifecycle
from market.uow import transaction
from tests.factories import OrganisationFactory, UserFactory
from tests.manifest_factories import carrier_user, funded_order, manifest_data
from tests.services.test_escrow_concurrency import race
from tests.escrow_factories import finance_user

pytestmark = pytest.mark.committed
THREADS = 8


class RolledBack(Exception):
    pass


def _allocate_then_fail():
    with transaction():
        numbering.allocate(date.today().year, "440306")
        raise RolledBack()


def test_parallel_creations_get_unique_gapless_numbers(app, operator):
    finance = finance_user()
    carrier = carrier_user()
    jobs = []
    for i in range(THREADS):
        gen = UserFactory(org=OrganisationFactory(types=["generator"], region_code="440306"))
        order = funded_order(gen.org, operator.org, finance)
        jobs.append((gen, order.id))
    data = manifest_data(carrier.org)
    db.session.remove()
    calls = [lambda g=g, o=o: lifecycle.create_manifest(g, o, data).number for g, o in jobs]
    calls += [_allocate_then_fail] * 3
    results = race(app, calls)
    numbers = results[:THREADS]
    assert all(isinstance(n, str) for n in numbers), numbers
    assert all(isinstance(r, RolledBack) for r in results[THREADS:]), results
    year = date.today().year
    assert sorted(numbers) == [f"{year}4403{n:06d}" for n in range(1, THREADS + 1)]
    stored = db.session.scalars(select(Manifest.number).order_by(Manifest.number)).all()
    assert stored == sorted(numbers)
    # The next creation continues the series: the rolled-back serials were given back.
    assert numbering.allocate(year, "440399") == f"{year}4403{THREADS + 1:06d}"
