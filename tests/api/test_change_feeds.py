"""Change feeds: `updated_after` + cursor on every list, exactly once under concurrent writers."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from market import db
from tests.api.conftest import bearer, error_of
from tests.api.feed_client import EPOCH, seen_once_under_concurrent_writers, sync
from tests.escrow_factories import make_order
from tests.factories import OrganisationFactory, UserFactory
from tests.listing_factories import DisposalRequestFactory


def test_feeds_page_in_change_order_and_resume(client):
    user = UserFactory(org=OrganisationFactory(types=["generator"]))
    headers = bearer(user)
    reqs = [DisposalRequestFactory(generator=user.org) for _ in range(7)]
    items, cursor = sync(client, headers, "/api/v1/requests", None, limit=3)
    assert sorted(i["id"] for i in items) == sorted(r.id for r in reqs)
    assert sync(client, headers, "/api/v1/requests", cursor)[0] == []
    order = make_order(user.org)
    got, _c = sync(client, headers, "/api/v1/orders", None)
    assert [o["id"] for o in got] == [order.id]
    offers, _c = sync(client, headers, "/api/v1/offers", None)
    assert order.offer_id in {o["id"] for o in offers}


def test_a_later_updated_after_leaves_older_changes_out(client):
    user = UserFactory(org=OrganisationFactory(types=["generator"]))
    DisposalRequestFactory(generator=user.org)
    items, _c = sync(client, bearer(user), "/api/v1/requests", None, since="2999-01-01T00:00:00Z")
    assert items == []


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "1" * 41])
def test_a_bad_updated_after_names_the_field(client, value):
    user = UserFactory(org=OrganisationFactory(types=["generator"]))
    resp = client.get(f"/api/v1/orders?updated_after={value}", headers=bearer(user))
    assert resp.status_code == 422 and error_of(resp)["field"] == "updated_after"


def test_a_plain_cursor_is_not_a_feed_cursor(client):
    user = UserFactory(org=OrganisationFactory(types=["generator"]))
    DisposalRequestFactory.create_batch(3, generator=user.org)
    plain = client.get("/api/v1/requests?limit=1", headers=bearer(user)).get_json()["next"]
    resp = client.get(f"/api/v1/requests?updated_after={EPOCH}&cursor={plain}", headers=bearer(user))
    assert resp.status_code == 422 and error_of(resp)["field"] == "cursor"


@pytest.mark.committed
def test_concurrent_writers_every_change_seen_exactly_once(client):
    """Writers commit out of order (long and short transactions interleaved) while a client syncs;
    the client sees each row's versions in increasing order, never one twice, and the last one."""
    user = UserFactory(org=OrganisationFactory(types=["generator"]))
    rows = [DisposalRequestFactory(generator=user.org, description="v0") for _ in range(12)]
    db.session.commit()

    def write(conn, row_id, version):
        conn.execute(text("UPDATE disposal_request SET description = :d WHERE id = :i"),
                     {"d": f"v{version}", "i": row_id})

    seen_once_under_concurrent_writers(client, bearer(user), "/api/v1/requests",
                                       [r.id for r in rows], write,
                                       lambda i: int(i["description"][1:]))
