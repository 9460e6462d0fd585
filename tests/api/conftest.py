"""Helpers for the API tests: bearer headers for a user, notifications to mark read."""
from __future__ import annotations

import pytest

from market import db
from market.accounts.tokens import issue_api_token
from market.notifications.models import Notification
from market.uow import transaction


def bearer(user) -> dict[str, str]:
    """Authorization headers with a fresh token for the user."""
    token, _expires = issue_api_token(user)
    return {"Authorization": f"Bearer {token}"}


def make_notes(user, n: int = 2) -> list[Notification]:
    """n unread notifications for the user."""
    notes = [Notification(user_id=user.id, kind="test", title=f"note {i}") for i in range(n)]
    # Committed (to the test's savepoint), or a request that rolls back would take them along.
    with transaction():
        db.session.add_all(notes)
    return notes


def error_of(resp) -> dict:
    """The error object of an API error response, checking the format on the way."""
    body = resp.get_json()
    assert resp.is_json and set(body) == {"error"}, resp.get_data(as_text=True)
    assert {"code", "message"} <= set(body["error"]) <= {"code", "message", "field"}
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def gen_headers(generator):
    return bearer(generator)
