"""Engine, scoped session and the declarative Base."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

from sqlalchemy import MetaData, create_engine, func
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, scoped_session, sessionmaker
from sqlalchemy.types import DateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def sql_in(column: str, values: Iterable[str]) -> str:
    """The SQL of a CHECK constraint "column IN ('a', 'b', …)" over the model's fixed words."""
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow)


SessionFactory = sessionmaker(expire_on_commit=False)
session = scoped_session(SessionFactory)
_engine: Engine | None = None


def sqlalchemy_url(url: str) -> str:
    """Accept plain postgres:// URLs and pin the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def init_engine(url: str) -> Engine:
    global _engine
    if _engine is None or str(_engine.url.render_as_string(hide_password=False)) != sqlalchemy_url(url):
        # No pre-ping: it is one more round trip for every transaction (a ledger posting is three).
        # A connection the server has dropped fails one use case, which rolls back and is
        # retried (jobs) or reported (requests); the pool then replaces every stale connection.
        _engine = create_engine(sqlalchemy_url(url), pool_recycle=3600, future=True)
        SessionFactory.configure(bind=_engine)
    return _engine


def engine() -> Engine:
    if _engine is None:
        raise RuntimeError("database engine not initialised; call create_app() first")
    return _engine


def init_app(app) -> None:
    if app.config.get("DATABASE_URL"):
        init_engine(app.config["DATABASE_URL"])

    @app.teardown_appcontext
    def remove_session(exc=None):
        # remove() rolls back whatever a request left open: rollback is the default.
        session.remove()
