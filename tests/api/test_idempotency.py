"""Idempotency-Key on API writes, through the real POST /api/v1/notifications/read."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from market import db
from market.api import idempotency
from market.api.models import IdempotencyRecord
from market.notifications.models import Notification
from market.web.security import REGULATOR_WRITE_ALLOWED
from tests.api.conftest import bearer, error_of, make_notes

URL = "/api/v1/notifications/read"


def _records() -> int:
    return db.session.scalar(select(func.count()).select_from(IdempotencyRecord))


def _read_at(notes) -> list:
    db.session.expire_all()
    return [db.session.get(Notification, n.id).read_at for n in notes]


def _post(client, headers, key=None, **kwargs):
    h = dict(headers)
    if key is not None:
        h["Idempotency-Key"] = key
    kwargs.setdefault("json", {})
    return client.post(URL, headers=h, **kwargs)


def test_mark_read_without_key(client, generator, other_generator, gen_headers):
    mine = make_notes(generator, 2)
    theirs = make_notes(other_generator, 1)
    resp = _post(client, gen_headers, json={"id": mine[0].id})
    assert resp.status_code == 200 and resp.get_json() == {"marked": 1}
    assert "Idempotent-Replayed" not in resp.headers
    assert _post(client, gen_headers).get_json() == {"marked": 1}
    assert all(_read_at(mine)) and _read_at(theirs) == [None]
    # Someone else's notification is never touched, whatever the id.
    assert _post(client, gen_headers, json={"id": theirs[0].id}).get_json() == {"marked": 0}
    assert _read_at(theirs) == [None]
    assert _records() == 0


def test_replay_returns_the_first_response_and_has_one_effect(client, generator, gen_headers):
    first_notes = make_notes(generator, 2)
    first = _post(client, gen_headers, key="key-1")
    assert first.status_code == 200 and first.get_json() == {"marked": 2}
    assert "Idempotent-Replayed" not in first.headers
    stamps = _read_at(first_notes)
    assert all(stamps)

    later = make_notes(generator, 1)  # a second effect would mark this one
    again = _post(client, gen_headers, key="key-1")
    assert again.status_code == 200 and again.get_json() == {"marked": 2}
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _read_at(later) == [None]
    assert _read_at(first_notes) == stamps
    assert _records() == 1


def test_same_json_written_differently_is_the_same_request(client, generator, gen_headers):
    note = make_notes(generator, 1)[0]
    h = {**gen_headers, "Idempotency-Key": "k", "Content-Type": "application/json"}
    first = client.post(URL, data=f'{{"id": {note.id}}}', headers=h)
    again = client.post(URL, data=f'{{ "id":{note.id} }}', headers=h)
    assert first.get_json() == again.get_json() == {"marked": 1}
    assert again.headers["Idempotent-Replayed"] == "true"


def test_same_key_different_payload_is_409_and_changes_nothing(client, generator, gen_headers):
    notes = make_notes(generator, 2)
    assert _post(client, gen_headers, key="k", json={"id": notes[0].id}).status_code == 200
    resp = _post(client, gen_headers, key="k", json={"id": notes[1].id})
    assert resp.status_code == 409
    err = error_of(resp)
    assert err["code"] == "idempotency_conflict" and err["field"] == "Idempotency-Key"
    assert _read_at(notes)[1] is None
    # Another endpoint path or method counts as a different request too: the hash covers them.
    resp = _post(client, gen_headers, key="k", json={"id": notes[0].id},
                 query_string={"x": "1"})
    assert resp.status_code == 409


def test_keys_belong_to_one_user(client, generator, other_generator, gen_headers):
    make_notes(generator, 1)
    theirs = make_notes(other_generator, 2)
    assert _post(client, gen_headers, key="shared").get_json() == {"marked": 1}
    resp = _post(client, bearer(other_generator), key="shared")
    assert resp.get_json() == {"marked": 2} and "Idempotent-Replayed" not in resp.headers
    assert all(_read_at(theirs))
    assert _records() == 2


@pytest.mark.parametrize("key", ["", "x" * 201, "has space", "tab\tkey", "ключ"])
def test_malformed_key_is_422_and_changes_nothing(client, generator, gen_headers, key):
    notes = make_notes(generator, 1)
    resp = client.post(URL, json={}, headers={**gen_headers,
                                              "Idempotency-Key": key.encode("utf-8").decode("latin-1")})
    assert resp.status_code == 422
    assert error_of(resp)["field"] == "Idempotency-Key"
    assert _read_at(notes) == [None] and _records() == 0


def test_longest_key_is_accepted(client, generator, gen_headers):
    make_notes(generator, 1)
    assert _post(client, gen_headers, key="k" * 200).get_json() == {"marked": 1}
    assert _records() == 1


@pytest.mark.parametrize("key", [None, "k"])
@pytest.mark.parametrize("kwargs", [
    {"data": b""}, {"data": b"not json"}, {"data": b"[1]"}, {"data": b"null"},
    {"data": "id=1", "content_type": "application/x-www-form-urlencoded"},
])
def test_missing_or_non_json_body_is_400_and_changes_nothing(client, generator, gen_headers, key,
                                                             kwargs):
    notes = make_notes(generator, 1)
    kwargs = {"content_type": "application/json", **kwargs}
    resp = _post(client, gen_headers, key, json=None, **kwargs)
    assert resp.status_code == 400
    assert error_of(resp)["code"] == "bad_request"
    assert _read_at(notes) == [None]


@pytest.mark.parametrize("value", ["1", 1.0, True, 0, -3, 2**31, [1], {"a": 1}])
def test_bad_id_is_422_naming_the_field_and_changes_nothing(client, generator, gen_headers, value):
    notes = make_notes(generator, 1)
    resp = _post(client, gen_headers, json={"id": value})
    assert resp.status_code == 422
    err = error_of(resp)
    assert err["field"] == "id" and "id" in err["message"]
    assert _read_at(notes) == [None]


def test_a_4xx_is_stored_and_replayed_too(client, generator, gen_headers):
    notes = make_notes(generator, 1)
    first = _post(client, gen_headers, key="bad", json={"id": "x"})
    assert first.status_code == 422
    again = _post(client, gen_headers, key="bad", json={"id": "x"})
    assert again.status_code == 422 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _read_at(notes) == [None]
    record = db.session.scalar(select(IdempotencyRecord))
    assert (record.status_code, record.method, record.path) == (422, "POST", URL)


def test_losing_a_race_replays_the_winner_without_a_second_effect(client, generator, gen_headers,
                                                                  monkeypatch):
    """A concurrent twin that looked before the winner committed fails on the unique key."""
    first_notes = make_notes(generator, 2)
    assert _post(client, gen_headers, key="race").get_json() == {"marked": 2}
    later = make_notes(generator, 1)
    real_find = idempotency._find
    calls = []

    def blind_first_look(user_id, key):
        calls.append(key)
        return None if len(calls) == 1 else real_find(user_id, key)

    monkeypatch.setattr(idempotency, "_find", blind_first_look)
    resp = _post(client, gen_headers, key="race")
    assert len(calls) == 2  # looked, lost on insert, looked again
    assert resp.status_code == 200 and resp.get_json() == {"marked": 2}
    assert resp.headers["Idempotent-Replayed"] == "true"
    assert _read_at(later) == [None]
    assert all(_read_at(first_notes)) and _records() == 1


def test_every_api_write_is_idempotent(app):
    """DESIGN.md §9: writes accept an Idempotency-Key; a new write without @idempotent fails here."""
    writes = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1") and rule.methods - {"GET", "HEAD", "OPTIONS"}}
    assert "api.mark_notifications_read" in writes
    # Getting a token has no user yet to own a key.
    lacking = [e for e in writes - {"api.issue_token"}
               if not getattr(app.view_functions[e], "idempotent", False)]
    assert lacking == []


def test_regulator_cannot_write_anywhere_in_the_api(app, client, regulator):
    """Enumerates the routes, so a new API write is covered as soon as it exists."""
    headers = bearer(regulator)
    writes = [(rule, method) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1") and rule.endpoint not in REGULATOR_WRITE_ALLOWED
              for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"})]
    make_notes(regulator, 1)
    for rule, method in writes:
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", "1", rule.rule)
        resp = client.open(path, method=method, json={}, headers={**headers, "Idempotency-Key": "r"})
        assert resp.status_code == 403, (method, path, resp.get_data(as_text=True))
        assert error_of(resp)["code"] == "permission_denied"
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.read_at.is_not(None))) == 0
    assert _records() == 0
    # Reading stays allowed, and so do getting a token and clearing its own inbox.
    resp = client.post("/api/v1/notifications/read", json={}, headers=headers)
    assert resp.status_code == 200 and resp.get_json()["marked"] == 1
    assert client.get("/api/v1/me", headers=headers).status_code == 200


# The daily job runs on the Shanghai day; these UTC clocks fall on both sides of its midnight
# (16:00 UTC), where passing the UTC date instead made the test fail for eight hours a day.
FAKE_NOWS = ["2026-03-10T00:30:00+00:00", "2026-03-10T15:59:00+00:00",
             "2026-03-10T16:00:00+00:00", "2026-03-10T23:59:00+00:00"]


@pytest.mark.parametrize("now", [*FAKE_NOWS, None])
def test_old_idempotency_records_are_pruned_by_the_daily_job(app, client, generator, now):
    from datetime import datetime, timedelta

    from market.api.jobs import prune_idempotency_records
    from market.db import utcnow
    from market.jobs.schedule import TZ
    clock = datetime.fromisoformat(now) if now else utcnow()
    headers = bearer(generator)
    for key in ("old", "new"):
        make_notes(generator, 1)
        client.post("/api/v1/notifications/read", json={},
                    headers={**headers, "Idempotency-Key": key})
    records = {r.key: r for r in db.session.scalars(select(IdempotencyRecord))}
    records["old"].created_at = clock - timedelta(days=8)
    records["new"].created_at = clock - timedelta(minutes=1)
    db.session.commit()
    # the run day is the Shanghai date at the job's clock, as the scheduler passes it
    assert prune_idempotency_records(clock.astimezone(TZ).date().isoformat()) == 1
    assert [r.key for r in db.session.scalars(select(IdempotencyRecord))] == ["new"]
