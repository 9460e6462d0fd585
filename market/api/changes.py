"""Change feeds for API lists: `?updated_after=` and a cursor that sees every change exactly once.

Why not keyset on (updated_at, id): a timestamp is taken inside a transaction but becomes visible
only at its commit, and transactions commit out of order. A client that has paged past
updated_at = T would never see a row stamped T − 1 s by a transaction that commits a moment later.

What we do instead (migration 0013): a trigger upserts (table, row id) into row_change on every
INSERT and UPDATE of a listed table, and at commit a deferred trigger numbers the transaction's
changes from a sequence while holding a transaction-level advisory lock until the commit is done.
So numbers are handed out in commit order: when a reader sees change N, every change numbered
below N is already visible, and a change committed later always gets a larger number — nothing
can appear behind a client's cursor. A row changed again gets a new, larger number (the client
sees it again, with its new state: one change, one sighting). The price: writers of listed tables
take turns for the last moment of their commit (one sequence value and one row update per changed
row). Considered and rejected: serving only rows older than the oldest transaction in flight
(pg_snapshot_xmin), which is cluster-wide, so one long transaction in any database stalls every
feed. A reader's own uncommitted writes (numbered only at its commit) are served last.

A page and everything its items show (an order's lines, a manifest's lines and discrepancies,
loaded by further queries) are read from one snapshot (REPEATABLE READ, begun by the feed): read
committed, a child committed between the page's query and its item's rendering would show a change
the cursor has not passed yet, and the item would be served again with the same content.

`updated_after` (ISO 8601) picks the starting point of a first sync by the change's wall-clock
time; after that the cursor alone decides. `next` is never null in a feed: it is where to resume,
and a page with fewer items than `limit` means the client is up to date for now.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, literal_column, or_, select, text, tuple_

from market import db
from market.api.models import RowChange
from market.api.openapi import PARAMETERS
from market.api.pagination import Key, Page, PageRequest, encode_cursor, page_request
from market.api.parsing import query_str
from market.errors import ValidationFailed

PARAM = "updated_after"
_OWN = literal_column("pg_current_xact_id_if_assigned()::text::bigint")
_UNNUMBERED = 2**62  # the reader's own changes, not numbered before its commit
_POSITION = func.coalesce(RowChange.seq, _UNNUMBERED)
FEED_KEYS = (Key(_POSITION, int, "seq"), Key(RowChange.row_id, int, "row_id"))


@dataclass(frozen=True)
class FeedRequest:
    since: datetime
    page: PageRequest


def feed_request() -> FeedRequest | None:
    """The feed a list request asks for (`updated_after` given), or None for a plain list."""
    raw = query_str(PARAM, 40)
    if raw is None:
        return None
    try:
        since = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ValidationFailed(_("%(field)s must be a date and time in ISO 8601, e.g. "
                                 "2026-01-31T08:00:00Z.", field=PARAM), field=PARAM) from None
    if since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    return FeedRequest(since=since, page=page_request(FEED_KEYS))


def _one_snapshot() -> None:
    """Begin a REPEATABLE READ transaction for the rest of this read-only request. (Inside an
    enclosing transaction, as in tests that roll back, the enclosing snapshot is kept.)"""
    db.session.commit()  # a GET writes nothing; ends the transaction the token lookup began
    if not db.session.connection().in_nested_transaction():
        db.session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))


def changes_page(stmt: Select, model, feed: FeedRequest,
                 keep: Callable[[Any], bool] | None = None) -> Page:
    """The rows of stmt (a select of model) changed after the feed's position, in change order.

    `keep` drops rows the caller may not see after all (decided in Python); the cursor still
    moves past them, so such a page can be short while `next` goes on.
    """
    _one_snapshot()
    rc = RowChange
    stmt = (stmt.join(rc, and_(rc.tbl == model.__tablename__, rc.row_id == model.id))
            .where(or_(rc.seq.is_not(None), rc.xid == _OWN)))
    after = feed.page.after
    if after is None:
        stmt = stmt.where(rc.changed_at > feed.since)
    else:
        stmt = stmt.where(tuple_(_POSITION, rc.row_id) > tuple_(*after))
    limit = feed.page.limit
    rows = db.session.execute(stmt.add_columns(_POSITION.label("position"), rc.row_id)
                              .order_by(_POSITION, rc.row_id).limit(limit)
                              # the rows as they are now, even in a long-lived session
                              .execution_options(populate_existing=True)).all()
    if rows:
        position = [rows[-1].position, rows[-1].row_id]
    elif after is not None:
        position = list(after)
    else:
        # Nothing yet: resume after every change numbered so far (the sequence only grows).
        position = [db.session.scalar(select(func.coalesce(func.max(rc.seq), 0))), 2**63 - 1]
    items = [r[0] for r in rows if keep is None or keep(r[0])]
    return Page(items=items, next=encode_cursor(position))


PARAMETERS[PARAM] = ("query", {"description": "Sync changes: rows created or changed after this time "
                                      "(ISO 8601), in change order, with a cursor that never "
                                      "misses nor repeats a change under concurrent writes; "
                                      "keep passing it with `cursor`. In a feed `next` is never "
                                      "null: a short page means up to date for now.",
                       "schema": {"type": "string", "format": "date-time"}})
