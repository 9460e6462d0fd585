"""Test fixtures: a real PostgreSQL and Redis for every run, isolation by rollback.

Each run gets its own database, hazex_test_<pid>, created on the server of TEST_DATABASE_URL (used
as is), DATABASE_URL, or the embedded PostgreSQL, and dropped at the end; so runs side by side
never meet. Redis: the database REDIS_URL names (db 15 when it names none), flushed before each
test, so runs side by side use different REDIS_URL databases; or a private redis-server. Under
pytest-xdist each worker is its own process (its own hazex_test_<pid>) and takes the Redis
database after the named one by its worker number (gw1: named + 1, modulo 16).
"""
from __future__ import annotations

import fcntl
import os
import threading
import warnings

import psycopg
import pytest
from flask import g, has_request_context, request_started, request_tearing_down
from flask.globals import request_ctx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.util import ScopedRegistry

from market import create_app, db, embedded
from market.config import ROOT

TEST_INSTANCE = ROOT / "instance"
REFERENCE_TABLES = {"waste_category", "waste_code", "waste_synonym", "disposal_method", "region",
                    "alembic_version"}


def _database_url() -> tuple[str, bool]:
    """The test database URL, and whether this run owns (and drops) it."""
    if os.environ.get("TEST_DATABASE_URL"):
        return db.sqlalchemy_url(os.environ["TEST_DATABASE_URL"]), False
    server = os.environ.get("DATABASE_URL") or _embedded_postgres()
    u = make_url(db.sqlalchemy_url(server)).set(database=f"hazex_test_{os.getpid()}")
    return u.render_as_string(hide_password=False), True


def _embedded_postgres() -> str:
    """The embedded server, started once however many xdist workers ask at the same moment."""
    TEST_INSTANCE.mkdir(parents=True, exist_ok=True)
    with open(TEST_INSTANCE / ".test-start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return embedded.start_postgres(TEST_INSTANCE)


def _xdist_worker_number() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")      # "gw0", "gw1", … under xdist
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0


def _redis_url(private_dir) -> tuple[str, bool]:
    if os.environ.get("REDIS_URL"):
        base = os.environ["REDIS_URL"]
        db_part = base.rsplit("/", 1)[1] if base.count("/") > 2 else ""
        server, named = (base.rsplit("/", 1)[0], int(db_part)) if db_part.isdigit() \
            else (base.rstrip("/"), 15)
        return f"{server}/{(named + _xdist_worker_number()) % 16}", False
    return embedded.start_redis(private_dir).rsplit("/", 1)[0] + "/0", True


def _admin_url(url: str) -> str:
    return make_url(url).set(database="postgres", drivername="postgresql").render_as_string(
        hide_password=False)


def _reset_database(url: str) -> None:
    u = make_url(url)
    embedded.ensure_database(_admin_url(url), u.database)
    plain = u.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")


def _drop_database(url: str) -> None:
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def _fresh_request_globals(sender, **extra):
    """Start every request with an empty `g`, as in production.

    Each test keeps one app context pushed and Flask reuses it for the test client's requests, so
    flask-login's cached user (g._login_user) would otherwise leak from one request, or one
    client, to the next.
    """
    g.__dict__.clear()


def _session_scope():
    """The scope of db.session: the thread, and in it the current request or the test's code."""
    return threading.get_ident(), (id(request_ctx._get_current_object())
                                   if has_request_context() else None)


def _test_session():
    """The session of the test's own code in this thread, if it has one."""
    return db.session.registry.registry.get((threading.get_ident(), None))


def _flush_test_session(sender, **extra):
    """What the test built so far is flushed, so the request's own session sees it."""
    if (session := _test_session()) is not None:
        session.flush()


def _end_request_session(sender, **extra):
    """Remove the request's session at teardown, as production does at the end of its app context.

    Whatever the request did not commit is rolled back with it, so a use case that forgets to
    commit fails its test. The test's own session then reloads what the request committed.
    """
    db.session.remove()
    if (session := _test_session()) is not None:
        session.expire_all()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    db_url, owns_db = _database_url()
    redis_dir = tmp_path_factory.mktemp("redis")
    redis_url, owns_redis = _redis_url(redis_dir)
    _reset_database(db_url)
    application = create_app(DATABASE_URL=db_url, REDIS_URL=redis_url, TESTING=True,
                             WTF_CSRF_ENABLED=False, UPLOAD_DIR=str(tmp_path_factory.mktemp("uploads")),
                             SERVER_NAME=None, BASE_URL="http://hazex.test")
    request_started.connect(_fresh_request_globals, application)
    request_started.connect(_flush_test_session, application)
    request_tearing_down.connect(_end_request_session, application)
    # One session per request (keyed by its request context), another for the test's own code.
    db.session.registry = ScopedRegistry(db.SessionFactory, _session_scope)
    with application.app_context():
        from alembic import command
        from market.cli import alembic_config
        command.upgrade(alembic_config(), "head")
        from market.catalog.services import load_reference_data
        load_reference_data()
        db.session.remove()
    yield application
    db.engine().dispose()
    if owns_db:
        _drop_database(db_url)
    if owns_redis:
        embedded.stop_redis(redis_dir)


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
        _remove_all_sessions()
        truncate_all()
        return
    connection = db.engine().connect()
    outer = connection.begin()
    db.session.remove()
    db.SessionFactory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield db.session
    finally:
        _remove_all_sessions()
        outer.rollback()
        connection.close()
        db.SessionFactory.configure(bind=db.engine(), join_transaction_mode="conditional_savepoint")


def _remove_all_sessions() -> None:
    """Close every session the test opened: its own, its requests' and its threads'."""
    sessions = db.session.registry.registry
    for session in list(sessions.values()):
        session.close()
    sessions.clear()


# Other connections to this worker's own database still inside a transaction once a test is over:
# what a late request of the test's browser, or a thread it started, left open. Their locks would
# hold the TRUNCATE below for ever (seen once in CI: a live-server request's SELECT on app_user).
_LEFTOVER_TRANSACTIONS = text("""
    SELECT pid, left(query, 200) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND state IN ('idle in transaction', 'idle in transaction (aborted)')""")


def truncate_all() -> None:
    """Empty every non-reference table after a committing test (audit triggers bypassed).

    A transaction the test left open is ended first, with a warning naming its last statement;
    a lock still held past the timeout fails the test instead of hanging the suite."""
    tables = [t.name for t in db.Base.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    with db.engine().begin() as conn:
        for pid, query in conn.execute(_LEFTOVER_TRANSACTIONS).all():
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            warnings.warn(f"ended a transaction the test left open (pid {pid}): {query}")
        conn.execute(text("SET LOCAL lock_timeout = '60s'"))
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
