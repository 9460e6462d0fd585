"""A fingerprint of the whole database, for refusal tests that must show nothing changed."""
from __future__ import annotations

from sqlalchemy import text

from market import db


def fingerprint() -> dict[str, str]:
    """A hash of every row of every table: any insert, update or delete changes it."""
    db.session.expire_all()
    tables = [t.name for t in db.Base.metadata.sorted_tables]
    sql = " UNION ALL ".join(
        f"SELECT '{t}', md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {t} x"
        for t in tables)
    return dict(db.session.execute(text(sql)).all())
