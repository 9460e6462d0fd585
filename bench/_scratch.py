"""The benchmarks' own database: created fresh on the configured server, dropped afterwards.

Not a benchmark itself (`make bench` skips bench/_*.py). Import it after the script has put the
project root on sys.path.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg
from sqlalchemy.engine import make_url


def _urls(name: str) -> tuple[str, str]:
    """(admin URL on database postgres, URL of database `name`) on the configured server."""
    from market import embedded
    from market.config import load_config
    from market.db import sqlalchemy_url
    cfg = load_config()
    base = cfg["DATABASE_URL"] or embedded.start_postgres(Path(cfg["INSTANCE_PATH"]))
    u = make_url(sqlalchemy_url(base))
    admin = u.set(database="postgres", drivername="postgresql").render_as_string(
        hide_password=False)
    return admin, u.set(database=name).render_as_string(hide_password=False)


def _drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_database(name: str, *, keep: bool = False) -> Iterator[str]:
    """A fresh, empty database `name` (its URL) on DATABASE_URL's server or the embedded one."""
    admin, url = _urls(name)
    _drop(admin, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url
    finally:
        if not keep:
            _drop(admin, name)
