"""Licence and permit expiry reminders: 60, 30 and 7 days before, each once, to every user."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from market import db
from market.accounts.jobs import send_expiry_reminders
from market.accounts.models import ExpiryReminder
from market.jobs import enqueue_after_commit
from market.jobs.core import redis_connection
from market.jobs.models import OutboxJob
from market.notifications.models import EmailMessage, Notification
from market.uow import transaction
from tests.factories import LicenceFactory, OrganisationFactory, PermitFactory, UserFactory

ON = date(2025, 3, 1)
START = date(2024, 1, 1)


def _notes(user) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def _emails(user) -> list[EmailMessage]:
    return list(db.session.scalars(select(EmailMessage).where(EmailMessage.to_address == user.email)
                                   .order_by(EmailMessage.id)))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def operator_org():
    org = OrganisationFactory(types=["operator"], region_code="441900")
    users = [UserFactory(org=org), UserFactory(org=org, is_org_admin=False)]
    inactive = UserFactory(org=org, active=False)  # a deactivated account: told nothing
    return org, users, inactive


def _licence(org, days: int, status: str = "verified", number: str | None = None):
    kw = {"number": number} if number else {}
    return LicenceFactory(org=org, valid_from=START, valid_to=ON + timedelta(days=days), status=status, **kw)


@pytest.mark.parametrize("days", [60, 30, 7])
def test_a_verified_licence_expiring_in_exactly_n_days_notifies_every_active_user(operator_org, days):
    org, users, inactive = operator_org
    outsider = UserFactory()
    lic = _licence(org, days)

    assert send_expiry_reminders(on=ON.isoformat()) == 1

    for user in users:
        notes = _notes(user)
        assert len(notes) == 1
        note = notes[0]
        assert note.kind == "document.expiring"
        assert lic.number in note.title
        assert str(days) in note.title
        assert lic.valid_to.isoformat() in note.title
        assert note.link == "/account/licences"
        emails = _emails(user)
        assert len(emails) == 1 and emails[0].subject == note.title
    assert _notes(inactive) == [] and _emails(inactive) == []
    assert _notes(outsider) == []
    assert db.session.scalars(select(ExpiryReminder)).all()[-1].days_before == days


def test_running_twice_sends_nothing_new(operator_org, redis_conn):
    org, users, inactive = operator_org
    for days in (60, 30, 7):
        _licence(org, days)
    notes, emails, outbox = _count(Notification), _count(EmailMessage), _count(OutboxJob)

    assert send_expiry_reminders(on=ON.isoformat()) == 3
    assert _count(Notification) == notes + 3 * len(users)
    assert _count(EmailMessage) == emails + 3 * len(users)
    assert _count(OutboxJob) == outbox + 3 * len(users)
    # the e-mails left after commit
    assert Queue("notifications", connection=redis_conn).count == 3 * len(users)

    assert send_expiry_reminders(on=ON.isoformat()) == 0
    assert _count(Notification) == notes + 3 * len(users)
    assert _count(EmailMessage) == emails + 3 * len(users)
    assert Queue("notifications", connection=redis_conn).count == 3 * len(users)


@pytest.mark.parametrize("days, status", [(45, "verified"), (7, "pending"), (30, "rejected"),
                                          (59, "verified"), (61, "verified"), (8, "verified"),
                                          (6, "verified"), (0, "verified"), (-7, "verified")])
def test_no_reminder_off_the_days_or_for_an_unverified_licence(operator_org, days, status):
    org, users, inactive = operator_org
    _licence(org, days, status=status)
    assert send_expiry_reminders(on=ON.isoformat()) == 0
    assert all(_notes(u) == [] and _emails(u) == [] for u in users)


def test_permits_of_carriers_and_labs_are_reminded_too():
    carrier_org = OrganisationFactory(types=["carrier"], region_code="440106")
    lab_org = OrganisationFactory(types=["lab"], region_code="440305")
    driver = UserFactory(org=carrier_org)
    chemist = UserFactory(org=lab_org)
    permit = PermitFactory(org=carrier_org, kind="transport", valid_from=START,
                           valid_to=ON + timedelta(days=30))
    cma = PermitFactory(org=lab_org, kind="cma", valid_from=START, valid_to=ON + timedelta(days=7))
    PermitFactory(org=lab_org, kind="cma", valid_from=START, valid_to=ON + timedelta(days=7),
                  status="pending")

    assert send_expiry_reminders(on=ON.isoformat()) == 2
    [note] = _notes(driver)
    assert permit.number in note.title and "30" in note.title and note.link == "/account/permits"
    [note] = _notes(chemist)
    assert cma.number in note.title and "7" in note.title


def test_the_same_licence_is_reminded_again_at_the_next_threshold(operator_org):
    org, users, inactive = operator_org
    lic = _licence(org, 60)
    assert send_expiry_reminders(on=ON.isoformat()) == 1
    assert send_expiry_reminders(on=(ON + timedelta(days=15)).isoformat()) == 0   # 45 days left
    assert send_expiry_reminders(on=(ON + timedelta(days=30)).isoformat()) == 1   # 30 days left
    assert send_expiry_reminders(on=(ON + timedelta(days=53)).isoformat()) == 1   # 7 days left
    titles = [n.title for n in _notes(users[0])]
    assert len(titles) == 3
    assert all(lic.number in t for t in titles)
    assert [("60" in titles[0]), ("30" in titles[1]), ("7" in titles[2])] == [True, True, True]
    reminders = db.session.execute(select(ExpiryReminder.days_before).where(
        ExpiryReminder.document_type == "licence", ExpiryReminder.document_id == lic.id)).scalars()
    assert sorted(reminders) == [7, 30, 60]


def test_a_licence_and_a_permit_with_the_same_id_are_reminded_separately():
    """ExpiryReminder is keyed by document type as well as id."""
    op = OrganisationFactory(types=["operator", "carrier"])
    user = UserFactory(org=op)
    lic = _licence(op, 30)
    permit = PermitFactory(org=op, valid_from=START, valid_to=ON + timedelta(days=30))
    assert send_expiry_reminders(on=ON.isoformat()) == 2
    titles = " ".join(n.title for n in _notes(user))
    assert lic.number in titles and permit.number in titles


def test_the_scheduled_job_runs_through_rq_and_the_emails_are_stored(app, operator_org):
    """End to end: enqueue the daily job, a worker runs it, then the e-mails it queued."""
    org, users, inactive = operator_org
    _licence(org, 7)
    app.config["SMTP_HOST"], old = None, app.config.get("SMTP_HOST")
    try:
        with transaction():
            enqueue_after_commit(send_expiry_reminders, ON.isoformat())
        conn = redis_connection()
        SimpleWorker([Queue("notifications", connection=conn)], connection=conn).work(burst=True)
        db.session.expire_all()
        for user in users:
            assert len(_notes(user)) == 1
            [email] = _emails(user)
            assert email.status == "stored"
    finally:
        app.config["SMTP_HOST"] = old


def test_the_job_leaves_no_transaction_open(operator_org):
    """A long-lived worker must not sit 'idle in transaction' after the daily run."""
    db.session.commit()
    assert not db.session().in_transaction()
    assert send_expiry_reminders(on=ON.isoformat()) == 0
    assert not db.session().in_transaction()
