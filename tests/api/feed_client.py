"""A change-feed client for tests: page a feed with `updated_after` and the cursor, and check it
against writers committing out of order (long and short transactions interleaved)."""
from __future__ import annotations

import random
import threading
import time
from typing import Callable

from market import db

EPOCH = "1970-01-01T00:00:00Z"


def sync(client, headers, path: str, cursor: str | None, limit: int = 5,
         since: str = EPOCH) -> tuple[list[dict], str]:
    """Page a feed until a short page; the items and the cursor to resume from."""
    items = []
    sep = "&" if "?" in path else "?"
    while True:
        url = (f"{path}{sep}updated_after={since}&limit={limit}"
               + (f"&cursor={cursor}" if cursor else ""))
        resp = client.get(url, headers=headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        body = resp.get_json()
        assert body["next"], "a feed always says where to resume"
        items += body["items"]
        cursor = body["next"]
        if len(body["items"]) < limit:
            return items, cursor


def seen_once_under_concurrent_writers(client, headers, path: str, ids: list[int],
                                       write: Callable, version_of: Callable[[dict], int],
                                       writers: int = 4, versions: int = 15) -> None:
    """Writers each own some of the listed rows (ids) and write versions 1..`versions` of them with
    write(conn, row_id, version), holding some transactions open so that later ones commit first,
    while a client syncs `path`. The client must see each row's versions in increasing order
    (version_of(item)), never one twice, and each row's last one."""
    engine = db.engine()
    errors: list[BaseException] = []
    last_version: dict[int, int] = {}
    lock = threading.Lock()

    def writer(n: int, mine: list[int]):
        rnd = random.Random(n)
        try:
            for version in range(1, versions + 1):
                row_id = rnd.choice(mine)
                with engine.begin() as conn:
                    write(conn, row_id, version)
                    time.sleep(rnd.choice((0, 0, 0.002, 0.03)))
                with lock:
                    last_version[row_id] = version
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n, ids[n::writers])) for n in range(writers)]
    for t in threads:
        t.start()
    seen: list[tuple[int, int]] = []
    cursor = None
    while any(t.is_alive() for t in threads):
        items, cursor = sync(client, headers, path, cursor, limit=4)
        seen += [(i["id"], version_of(i)) for i in items]
    for t in threads:
        t.join()
    items, cursor = sync(client, headers, path, cursor, limit=4)
    seen += [(i["id"], version_of(i)) for i in items]
    assert not errors, errors
    assert len(seen) == len(set(seen)), "a change was served twice"
    by_row: dict[int, list[int]] = {}
    for row_id, version in seen:
        by_row.setdefault(row_id, []).append(version)
    assert set(by_row) == set(ids)
    for row_id, got in by_row.items():
        assert got == sorted(got), (row_id, got)
        assert got[-1] == last_version.get(row_id, 0), (row_id, got)
    assert len(seen) > len(ids), "the client should have synced during the writes"
