from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from market.db import Base, Timestamped
from market.notifications.messages import render


class Notification(Timestamped, Base):
    """An in-app inbox entry for one user.

    title/body hold the text as written (in the recipient's language at the time); title_msgid /
    body_msgid and their params are what is shown, rendered in the reader's language when read.
    Rows from before the message keys have only the text and show it as stored.
    """
    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    title_msgid: Mapped[str | None] = mapped_column(Text)
    title_params: Mapped[dict | None] = mapped_column(JSONB)
    body_msgid: Mapped[str | None] = mapped_column(Text)
    body_params: Mapped[dict | None] = mapped_column(JSONB)
    link: Mapped[str | None] = mapped_column(String(300))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def shown_title(self) -> str:
        """The title in the active language (the stored text for rows without a message key)."""
        if self.title_msgid is None:
            return self.title
        try:
            return render(self.title_msgid, self.title_params)
        except (KeyError, TypeError, ValueError):  # parameters no longer fit the msgid
            return self.title

    @property
    def shown_body(self) -> str:
        if self.body_msgid is None:
            return self.body or ""
        try:
            return render(self.body_msgid, self.body_params)
        except (KeyError, TypeError, ValueError):
            return self.body or ""


class EmailMessage(Timestamped, Base):
    """Outgoing e-mail. Sent over SMTP when configured; otherwise kept here for admins to read."""
    __tablename__ = "email_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued, sent, stored, failed
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
