from __future__ import annotations

import smtplib
from email.message import EmailMessage as MimeMessage

from flask import current_app
from sqlalchemy import select

from market.db import utcnow
from market.jobs import job
from market.notifications.models import EmailMessage
from market.uow import transaction


@job(queue="notifications")
def send_email(message_id: int) -> str:
    """Send one queued e-mail over SMTP, or store it when no SMTP server is configured."""
    with transaction() as s:
        msg = s.execute(select(EmailMessage).where(EmailMessage.id == message_id)
                        .with_for_update()).scalar_one_or_none()
        if msg is None or msg.status in ("sent", "stored"):
            return "skipped"
        cfg = current_app.config
        if not cfg.get("SMTP_HOST"):
            msg.status = "stored"
            return msg.status
        mime = MimeMessage()
        mime["From"], mime["To"], mime["Subject"] = cfg["MAIL_FROM"], msg.to_address, msg.subject
        mime.set_content(msg.body)
        with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=20) as smtp:
            if cfg.get("SMTP_USER"):
                smtp.starttls()
                smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"])
            smtp.send_message(mime)
        msg.status, msg.sent_at = "sent", utcnow()
        return msg.status
