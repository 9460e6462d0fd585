"""The daily scheduler: once per Shanghai day, not before its time, safe with two schedulers."""
from __future__ import annotations

import threading
from datetime import date, datetime, time, timezone

import pytest
from rq import Queue
from rq.job import Job
from sqlalchemy import select

from market import db
from market.jobs.models import OutboxJob, ScheduledRun
from market.jobs.schedule import DAILY, Daily, last_runs, run_due

UTC = timezone.utc
NAME = "licence_expiry_reminders"
JOB = "market.accounts.jobs.send_expiry_reminders"


# The expiry reminders alone, so other daily jobs do not change these counts.
EXPIRY = tuple(d for d in DAILY if d.name == NAME)


def _outbox() -> list[OutboxJob]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxJob).where(OutboxJob.name == JOB).order_by(OutboxJob.id)))


def _runs() -> list[tuple[str, date]]:
    return [tuple(r) for r in db.session.execute(
        select(ScheduledRun.name, ScheduledRun.run_on).order_by(ScheduledRun.run_on))]


def test_the_expiry_reminders_run_daily_at_eight_shanghai_time():
    assert Daily(NAME, time(8, 0), JOB) in DAILY


def test_not_before_the_time_of_day_in_shanghai():
    # 2025-03-01 23:59 UTC is 2025-03-02 07:59 in Shanghai
    assert run_due(datetime(2025, 3, 1, 23, 59, tzinfo=UTC), EXPIRY) == []
    assert _runs() == [] and _outbox() == []


def test_runs_once_per_day_even_when_called_twice(redis_conn):
    # 2025-03-02 00:00 UTC is 08:00 in Shanghai
    assert run_due(datetime(2025, 3, 2, 0, 0, tzinfo=UTC), EXPIRY) == [NAME]
    assert run_due(datetime(2025, 3, 2, 0, 0, tzinfo=UTC), EXPIRY) == []
    assert run_due(datetime(2025, 3, 2, 9, 30, tzinfo=UTC), EXPIRY) == []   # 17:30 Shanghai, same day
    assert _runs() == [(NAME, date(2025, 3, 2))]
    assert last_runs() == {NAME: "2025-03-02"}
    rows = _outbox()
    assert len(rows) == 1
    # the job gets the Shanghai day it runs for, and is on its way to rq
    assert rows[0].args == ["2025-03-02"]
    assert rows[0].pushed_at is not None
    queue = Queue("notifications", connection=redis_conn)
    assert queue.job_ids == [f"outbox-{rows[0].id}"]
    assert Job.fetch(f"outbox-{rows[0].id}", connection=redis_conn).args == (JOB, "2025-03-02")


def test_the_day_is_the_shanghai_day_not_the_utc_day():
    assert run_due(datetime(2025, 3, 2, 0, 30, tzinfo=UTC), EXPIRY) == [NAME]      # 03-02 08:30 Shanghai
    # 2025-03-02 17:00 UTC is already 03-03 01:00 in Shanghai: a new day, but before 08:00
    assert run_due(datetime(2025, 3, 2, 17, 0, tzinfo=UTC), EXPIRY) == []
    # 2025-03-03 00:00 UTC is 03-03 08:00 in Shanghai, although the UTC date is unchanged from 17:00
    assert run_due(datetime(2025, 3, 2, 23, 59, 59, tzinfo=UTC), EXPIRY) == []
    assert run_due(datetime(2025, 3, 3, 0, 0, tzinfo=UTC), EXPIRY) == [NAME]
    assert _runs() == [(NAME, date(2025, 3, 2)), (NAME, date(2025, 3, 3))]


def test_runs_again_the_next_day():
    assert run_due(datetime(2025, 3, 2, 1, 0, tzinfo=UTC), EXPIRY) == [NAME]
    assert run_due(datetime(2025, 3, 3, 1, 0, tzinfo=UTC), EXPIRY) == [NAME]
    assert run_due(datetime(2025, 3, 3, 2, 0, tzinfo=UTC), EXPIRY) == []
    assert [r.args for r in _outbox()] == [["2025-03-02"], ["2025-03-03"]]


def test_a_local_time_is_understood_in_its_own_zone():
    from zoneinfo import ZoneInfo
    shanghai = ZoneInfo("Asia/Shanghai")
    assert run_due(datetime(2025, 3, 2, 7, 59, tzinfo=shanghai), EXPIRY) == []
    assert run_due(datetime(2025, 3, 2, 8, 0, tzinfo=shanghai), EXPIRY) == [NAME]


@pytest.mark.committed
def test_two_schedulers_in_two_sessions_start_the_job_once(app):
    """Two processes' sessions race for the same day; the ScheduledRun primary key lets one win."""
    now = datetime(2025, 3, 2, 0, 5, tzinfo=UTC)
    barrier = threading.Barrier(4)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def scheduler():
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results.append(run_due(now, EXPIRY))
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert sorted(results) == [[], [], [], [NAME]]
    assert _runs() == [(NAME, date(2025, 3, 2))]
    assert len(_outbox()) == 1


def test_every_daily_job_names_a_registered_job():
    from market.jobs.core import _spec
    for entry in DAILY:
        assert _spec(entry.job).name == entry.job
