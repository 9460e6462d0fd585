"""Notifications: an inbox row per user, an e-mail per active user, sent after commit by a job."""
from __future__ import annotations

import socketserver
import threading
from email import message_from_bytes, policy

import pytest
from rq import Queue
from sqlalchemy import select

from market import db
from market.jobs.models import OutboxJob
from market.notifications.jobs import send_email
from market.notifications.messages import verbatim
from market.notifications.models import EmailMessage
from market.notifications.queries import email_outbox, inbox, unread_count
from market.notifications.services import mark_read, notify_org, notify_user, queue_email
from market.uow import transaction
from tests.factories import OrganisationFactory, UserFactory


def _email_for(address: str) -> list[EmailMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(EmailMessage).where(EmailMessage.to_address == address)))


def test_notify_user_adds_an_inbox_row_and_an_email_sent_after_commit(redis_conn):
    user = UserFactory()
    with transaction():
        note = notify_user(user, "test.kind", verbatim("标题"), verbatim("正文"), link="/orders/1")
    assert inbox(user.id) == [note]
    assert (note.kind, note.title, note.body, note.link, note.read_at) == (
        "test.kind", "标题", "正文", "/orders/1", None)
    [email] = _email_for(user.email)
    assert email.subject == "标题"
    assert email.body == "正文\n\n/orders/1"
    assert email.status == "queued"
    row = db.session.scalars(select(OutboxJob).order_by(OutboxJob.id.desc())).first()
    assert row.args == [email.id] and row.pushed_at is not None
    assert Queue("notifications", connection=redis_conn).job_ids == [f"outbox-{row.id}"]


def test_notify_user_without_email_queues_nothing(redis_conn):
    user = UserFactory()
    with transaction():
        notify_user(user, "k", verbatim("only in the inbox"), email=False)
    assert len(inbox(user.id)) == 1
    assert _email_for(user.email) == []
    assert Queue("notifications", connection=redis_conn).count == 0


def test_notify_org_reaches_every_active_user_and_nobody_else():
    org = OrganisationFactory()
    a, b = UserFactory(org=org), UserFactory(org=org, is_org_admin=False)
    gone = UserFactory(org=org, active=False)
    outsider = UserFactory()
    with transaction():
        assert notify_org(org.id, "org.verified", verbatim("已通过审核")) == 2
    for user in (a, b):
        assert [n.title for n in inbox(user.id)] == ["已通过审核"]
        assert len(_email_for(user.email)) == 1
    assert inbox(gone.id) == [] and _email_for(gone.email) == []
    assert inbox(outsider.id) == []


def test_a_rolled_back_notification_leaves_no_trace(redis_conn):
    user = UserFactory()
    with pytest.raises(ValueError):
        with transaction():
            notify_user(user, "k", verbatim("never"))
            raise ValueError("use case fails")
    assert inbox(user.id) == [] and _email_for(user.email) == []
    assert Queue("notifications", connection=redis_conn).count == 0


def test_mark_read_one_and_all_and_only_ones_own():
    user, other = UserFactory(), UserFactory()
    with transaction():
        n1 = notify_user(user, "k", verbatim("one"), email=False)
        notify_user(user, "k", verbatim("two"), email=False)
        theirs = notify_user(other, "k", verbatim("theirs"), email=False)
    assert unread_count(user.id) == 2
    assert mark_read(user, n1.id) == 1
    assert unread_count(user.id) == 1
    assert mark_read(user, n1.id) == 0  # already read
    assert mark_read(user, theirs.id) == 0  # another user's note is untouched
    assert unread_count(other.id) == 1
    assert mark_read(user) == 1
    assert unread_count(user.id) == 0
    assert unread_count(other.id) == 1


def test_without_smtp_the_email_is_stored_for_admins(app):
    app.config["SMTP_HOST"], old = None, app.config.get("SMTP_HOST")
    try:
        with transaction():
            msg = queue_email("x@example.cn", "主题", "内容")
        assert send_email(msg.id) == "stored"
        assert send_email(msg.id) == "skipped"
        assert send_email(10**9) == "skipped"  # a vanished message is not an error
        stored = email_outbox()[0]
        assert (stored.id, stored.status, stored.sent_at) == (msg.id, "stored", None)
    finally:
        app.config["SMTP_HOST"] = old


# -- SMTP: a minimal real SMTP server on loopback (the external edge) ------------------------------

class _SMTPHandler(socketserver.StreamRequestHandler):
    def handle(self):
        w = lambda line: self.wfile.write(line.encode() + b"\r\n")  # noqa: E731
        w("220 test ESMTP")
        envelope = {"from": None, "to": [], "data": b""}
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode().strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                w("250 test")
            elif verb == "MAIL":
                envelope["from"] = cmd
                w("250 ok")
            elif verb == "RCPT":
                envelope["to"].append(cmd)
                w("250 ok")
            elif verb == "DATA":
                w("354 go ahead")
                chunks = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    chunks.append(chunk)
                envelope["data"] = b"".join(chunks)
                self.server.received.append(envelope)
                envelope = {"from": None, "to": [], "data": b""}
                w(self.server.reply_to_data)
            elif verb == "QUIT":
                w("221 bye")
                return
            else:
                w("250 ok")


@pytest.fixture
def smtp_server(app):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.received = []
    server.reply_to_data = "250 queued"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    saved = {k: app.config.get(k) for k in ("SMTP_HOST", "SMTP_PORT", "SMTP_USER")}
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.server_address[1], SMTP_USER=None)
    try:
        yield server
    finally:
        app.config.update(saved)
        server.shutdown()
        server.server_close()


def test_with_smtp_the_email_is_sent_and_marked_sent(app, smtp_server):
    with transaction():
        msg = queue_email("ops@example.cn", "许可证即将到期", "请及时续期。")
    assert send_email(msg.id) == "sent"
    [env] = smtp_server.received
    assert "ops@example.cn" in env["to"][0]
    mime = message_from_bytes(env["data"], policy=policy.default)
    assert str(mime["Subject"]) == "许可证即将到期"
    assert mime["From"] == app.config["MAIL_FROM"]
    assert mime.get_content().strip() == "请及时续期。"
    db.session.expire_all()
    sent = db.session.get(EmailMessage, msg.id)
    assert sent.status == "sent" and sent.sent_at is not None
    # idempotent: a retry of a sent e-mail sends nothing
    assert send_email(msg.id) == "skipped"
    assert len(smtp_server.received) == 1


def test_an_smtp_refusal_fails_the_job_loudly_and_leaves_the_email_to_retry(smtp_server):
    import smtplib
    smtp_server.reply_to_data = "451 try again later"
    with transaction():
        msg = queue_email("ops@example.cn", "S", "B")
    with pytest.raises(smtplib.SMTPDataError):
        send_email(msg.id)
    db.session.expire_all()
    assert db.session.get(EmailMessage, msg.id).status == "queued"
    smtp_server.reply_to_data = "250 queued"
    assert send_email(msg.id) == "sent"
