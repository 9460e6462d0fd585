"""Cursor pagination for API lists: {"items": [...], "next": cursor-or-null}.

The cursor is the sort key of the last item sent, JSON-encoded then base64url'd. Clients must treat
it as opaque; keyset paging (WHERE key > cursor) stays correct when rows are added meanwhile and
costs the same on page 1000 as on page 1.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from flask import request
from flask_babel import gettext as _
from sqlalchemy import Select, tuple_

from market import db
from market.api.parsing import query_int
from market.errors import ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after: list | None


@dataclass(frozen=True)
class Key:
    """One sort column of a list and the Python type of its values."""
    column: Any
    type: type
    attr: str


@dataclass
class Page:
    items: list
    next: str | None


def encode_cursor(values: Sequence) -> str:
    """The opaque cursor for a sort key."""
    raw = json.dumps(list(values), separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed(_("cursor is not one this API returned; start again without it."),
                            field="cursor")


def decode_cursor(cursor: str, keys: Sequence[Key]) -> list:
    """The sort key inside a cursor, checked against the list's key columns."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _bad_cursor() from None
    if not isinstance(values, list) or len(values) != len(keys):
        raise _bad_cursor()
    for value, key in zip(values, keys):
        if isinstance(value, bool) or not isinstance(value, key.type):
            raise _bad_cursor()
        # Values the database cannot compare (out-of-range integers, NUL in text) are a 422 too.
        if isinstance(value, int) and not -2**63 <= value < 2**63:
            raise _bad_cursor()
        if isinstance(value, str) and ("\x00" in value or len(value) > 300):
            raise _bad_cursor()
    return values


def page_request(keys: Sequence[Key]) -> PageRequest:
    """Read ?limit= and ?cursor= for a list sorted by keys."""
    limit = query_int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    cursor = (request.args.get("cursor") or "").strip()
    if len(cursor) > 500:
        raise _bad_cursor()
    return PageRequest(limit=limit, after=decode_cursor(cursor, keys) if cursor else None)


def paginate(stmt: Select, keys: Sequence[Key], page: PageRequest) -> Page:
    """Run stmt ordered by keys, starting after the page's cursor; one row more tells if there is a next."""
    cols = [k.column for k in keys]
    if page.after is not None:
        stmt = stmt.where(tuple_(*cols) > tuple_(*page.after) if len(cols) > 1
                          else cols[0] > page.after[0])
    rows = list(db.session.scalars(stmt.order_by(*cols).limit(page.limit + 1)))
    more = len(rows) > page.limit
    rows = rows[:page.limit]
    nxt = encode_cursor([getattr(rows[-1], k.attr) for k in keys]) if more else None
    return Page(items=rows, next=nxt)


def list_body(page: Page, serialise: Callable[[Any], dict]) -> dict:
    """The JSON body of a list response."""
    return {"items": [serialise(row) for row in page.items], "next": page.next}
