"""/healthz: up or down for anyone; database, Redis and queue depth for platform staff; 503 when a
dependency is down."""
from __future__ import annotations

import socket

import pytest
from rq import Queue

from market.jobs import QUEUES
from market.notifications.services import queue_email
from market.uow import transaction
from tests.fixtures import login


@pytest.fixture
def staff(client, admin):
    return login(client, admin)


def test_anonymous_callers_learn_only_up_or_down(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}


def test_tenants_learn_only_up_or_down(client, generator):
    login(client, generator)
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_healthz_reports_database_redis_and_queue_depths(staff):
    resp = staff.get("/healthz")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["redis"] == "ok"
    assert body["queues"] == {q: 0 for q in QUEUES}
    assert set(QUEUES) == {"default", "notifications", "documents", "money"}


def test_queue_depth_counts_waiting_jobs(staff, redis_conn):
    with transaction():
        queue_email("a@example.cn", "S", "B")
        queue_email("b@example.cn", "S", "B")
    assert Queue("notifications", connection=redis_conn).count == 2
    body = staff.get("/healthz").get_json()
    assert body["queues"]["notifications"] == 2
    assert body["queues"]["default"] == 0


def test_healthz_needs_no_login_and_sets_no_cookie(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    assert "Set-Cookie" not in resp.headers


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthz_is_503_when_the_database_is_unreachable(client):
    """Down, and the database cannot say who is asking: everyone gets the short answer."""
    from sqlalchemy import create_engine

    from market import db
    test_bind = db.session().get_bind()
    dead = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/hazex",
                         connect_args={"connect_timeout": 2})
    db.session.remove()
    db.SessionFactory.configure(bind=dead)
    try:
        resp = client.get("/healthz")
    finally:
        db.session.remove()
        db.SessionFactory.configure(bind=test_bind)
        dead.dispose()
    assert resp.status_code == 503
    assert resp.get_json() == {"status": "unavailable"}


@pytest.fixture
def redis_unreachable(app):
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    old = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    app.extensions.pop("hazex_redis", None)
    try:
        yield
    finally:
        app.config["REDIS_URL"] = old
        app.extensions.pop("hazex_redis", None)


def test_healthz_is_503_when_redis_is_unreachable(staff, redis_unreachable):
    resp = staff.get("/healthz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["redis"].startswith("down")
    assert "queues" not in body


def test_healthz_recovers_when_redis_is_back(app, client):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    old = app.config["REDIS_URL"]
    try:
        app.config["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        app.extensions.pop("hazex_redis", None)
        assert client.get("/healthz").status_code == 503
    finally:
        app.config["REDIS_URL"] = old
        app.extensions.pop("hazex_redis", None)
    assert client.get("/healthz").status_code == 200
