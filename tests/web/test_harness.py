"""The test harness behaves like production: each request has its own database session, removed
at the request's teardown, so a use case that forgets to commit fails its test."""
from __future__ import annotations

from sqlalchemy import func, select

from market import db
from market.notifications.models import Notification
from market.uow import transaction
from tests.fixtures import login


def titled(title: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.title == title))


def test_what_a_request_does_not_commit_is_gone_after_it(app, generator):
    db.session.flush()
    test_session = db.session()
    with app.test_request_context("/"):
        assert db.session() is not test_session  # the request's own session
        db.session.add(Notification(user_id=generator.id, kind="test", title="forgotten"))
        db.session.flush()  # written, but never committed: the use case forgot its transaction()
        assert titled("forgotten") == 1
    assert titled("forgotten") == 0


def test_what_a_request_commits_is_seen_by_the_test(app, generator):
    db.session.flush()
    with app.test_request_context("/"):
        with transaction():
            db.session.add(Notification(user_id=generator.id, kind="test", title="kept"))
    assert titled("kept") == 1


def test_every_client_request_gets_a_fresh_session(app, client, generator):
    from flask import request_started
    sessions = []

    def remember(sender, **extra):
        sessions.append(db.session())
    login(client, generator)
    with request_started.connected_to(remember, app):
        client.get("/dashboard")
        client.get("/dashboard")
    assert len(sessions) == 2 and sessions[0] is not sessions[1]
    assert db.session() not in sessions
    # removed at teardown: nothing is left open in them
    assert all(not s.in_transaction() for s in sessions)
