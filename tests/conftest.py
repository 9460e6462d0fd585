"""Test fixtures: a real PostgreSQL and Redis for every run, isolation by rollback.

URLs: TEST_DATABASE_URL, else DATABASE_URL with "_test" appended to the database name, else the
embedded PostgreSQL (database hazex_test). Redis: REDIS_URL (or the embedded one) at db 15.
"""
from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from market import create_app, db, embedded
from market.config import ROOT

TEST_INSTANCE = ROOT / "instance"
REFERENCE_TABLES = {"waste_category", "waste_code", "disposal_method", "region", "alembic_version"}


def _test_urls() -> tuple[str, str]:
    db_url = os.environ.get("TEST_DATABASE_URL")
    if not db_url and os.environ.get("DATABASE_URL"):
        u = make_url(db.sqlalchemy_url(os.environ["DATABASE_URL"]))
        db_url = u.set(database=f"{u.database}_test").render_as_string(hide_password=False)
    if not db_url:
        base = embedded.start_postgres(TEST_INSTANCE)
        db_url = make_url(base).set(database="hazex_test").render_as_string(hide_password=False)
    redis_url = os.environ.get("REDIS_URL") or embedded.start_redis(TEST_INSTANCE)
    redis_url = redis_url.rsplit("/", 1)[0] + "/15" if redis_url.count("/") > 2 else redis_url + "/15"
    return db.sqlalchemy_url(db_url), redis_url


def _reset_database(url: str) -> None:
    u = make_url(url)
    admin = u.set(database="postgres", drivername="postgresql").render_as_string(hide_password=False)
    embedded.ensure_database(admin, u.database)
    plain = u.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    db_url, redis_url = _test_urls()
    _reset_database(db_url)
    application = create_app(DATABASE_URL=db_url, REDIS_URL=redis_url, TESTING=True,
                             WTF_CSRF_ENABLED=False, UPLOAD_DIR=str(tmp_path_factory.mktemp("uploads")),
                             SERVER_NAME=None, BASE_URL="http://hazex.test")
    with application.app_context():
        from alembic import command
        from market.cli import alembic_config
        command.upgrade(alembic_config(), "head")
        from market.catalog.services import load_reference_data
        load_reference_data()
        db.session.remove()
    return application


@pytest.fixture(scope="session")
def redis_conn(app):
    import redis
    return redis.Redis.from_url(app.config["REDIS_URL"])


@pytest.fixture(autouse=True)
def _app_context(app, redis_conn):
    redis_conn.flushdb()
    with app.app_context():
        yield


@pytest.fixture(autouse=True)
def db_session(request, app, _app_context):
    """Bind the scoped session to one connection; every commit is a savepoint, rolled back after."""
    if request.node.get_closest_marker("committed"):
        yield db.session
        db.session.remove()
        truncate_all()
        return
    connection = db.engine().connect()
    outer = connection.begin()
    db.session.remove()
    db.SessionFactory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield db.session
    finally:
        db.session.remove()
        outer.rollback()
        connection.close()
        db.SessionFactory.configure(bind=db.engine(), join_transaction_mode="conservative_savepoint")


def truncate_all() -> None:
    """Empty every non-reference table after a committing test (audit triggers bypassed)."""
    tables = [t.name for t in db.Base.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    with db.engine().begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def csrf_app(app):
    """The same application with CSRF protection switched on."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield app
    app.config["WTF_CSRF_ENABLED"] = False


from tests.fixtures import *  # noqa: E402,F401,F403
