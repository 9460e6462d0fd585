"""Change feeds: `updated_after` + cursor on every list, exactly once under concurrent writers."""
from __future__ import annotations

import random
import threading
import time

import pytest
from sqlalchemy import text

from market import db
from tests.api.conftest import bearer, error_of
from tests.escrow_factories import make_order
from tests.factories import OrganisationFactory, UserFactory
from tests.listing_factories import DisposalRequestFactory

EPOCH = "1970-01-01T00:00:00Z"


def sync(client, headers, path: str, cursor: str | None, limit: int = 5,
         since: str = EPOCH) -> tuple[list[dict], str]:
    """Page a feed until a short page; the items and the cursor to resume from."""
    items = []
    while True:
        url = f"{path}?updated_after={since}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        resp = client.get(url, headers=headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        body = resp.get_json()
        assert body["next"], "a feed always says where to resume"
        items += body["items"]
        cursor = body["next"]
        if len(body["items"]) < limit:
            return items, cursor


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
    headers = bearer(user)
    rows = [DisposalRequestFactory(generator=user.org, description="v0") for _ in range(12)]
    db.session.commit()
    ids = [r.id for r in rows]
    engine = db.engine()
    errors: list[BaseException] = []
    last_version: dict[int, int] = {}
    lock = threading.Lock()

    def writer(n: int, mine: list[int]):
        rnd = random.Random(n)
        try:
            for version in range(1, 16):
                row_id = rnd.choice(mine)
                with engine.begin() as conn:
                    conn.execute(text("UPDATE disposal_request SET description = :d WHERE id = :i"),
                                 {"d": f"v{version}", "i": row_id})
                    # Hold some transactions open so that later ones commit first.
                    time.sleep(rnd.choice((0, 0, 0.002, 0.03)))
                with lock:
                    last_version[row_id] = version
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n, ids[n::4])) for n in range(4)]
    for t in threads:
        t.start()
    seen: list[tuple[int, int]] = []
    cursor = None
    while any(t.is_alive() for t in threads):
        items, cursor = sync(client, headers, "/api/v1/requests", cursor, limit=4)
        seen += [(i["id"], int(i["description"][1:])) for i in items]
    for t in threads:
        t.join()
    items, cursor = sync(client, headers, "/api/v1/requests", cursor, limit=4)
    seen += [(i["id"], int(i["description"][1:])) for i in items]
    assert not errors
    assert len(seen) == len(set(seen)), "a change was served twice"
    by_row: dict[int, list[int]] = {}
    for row_id, version in seen:
        by_row.setdefault(row_id, []).append(version)
    assert set(by_row) == set(ids)
    for row_id, versions in by_row.items():
        assert versions == sorted(versions), (row_id, versions)
        assert versions[-1] == last_version.get(row_id, 0), (row_id, versions)
    assert len(seen) > len(ids), "the client should have synced during the writes"
