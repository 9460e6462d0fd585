"""Notifications are stored as a message key and parameters and read in the reader's language.

A note written while its reader used Chinese reads in English once the reader switches, on the inbox
page and in the API; its money and date parameters follow the language too. The e-mail is written
in the recipient's saved language. Plain (already translated) text is refused.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from market import db
from market.notifications.messages import as_date, as_money, as_word, message, verbatim
from market.notifications.models import EmailMessage, Notification
from market.notifications.services import notify_org, notify_user
from market.uow import transaction
from tests.api.conftest import bearer
from tests.factories import UserFactory
from tests.fixtures import login

CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def _notes_of(html: str) -> list[str]:
    """The visible text of each inbox entry."""
    items = re.findall(r'<li class="note[^"]*" data-testid="note".*?</li>', html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item)).strip() for item in items]


def _write_notes(user):
    with transaction():
        notify_user(user, "escrow.released",
                    message("%(amount)s of order %(number)s was released to you.",
                            amount=as_money(1234567), number="HZ-20261206-0001"),
                    verbatim("这是对方写的备注"), link="/orders/1")
        notify_user(user, "document.expiring",
                    message("%(doc)s %(number)s expires in %(days)d days (%(date)s)",
                            doc=as_word("licence"), number="L-77", days=30,
                            date=as_date(date(2026, 12, 6))), link="/account/licences")


def test_a_note_written_in_chinese_reads_in_english_after_the_switch(client, generator):
    generator.locale = "zh_CN"
    db.session.commit()
    _write_notes(generator)
    login(client, generator)
    client.post("/language", data={"locale": "zh_CN"})
    zh_notes = _notes_of(client.get("/inbox", headers=ZH).get_data(as_text=True))
    assert any("订单 HZ-20261206-0001 的 ¥12,345.67 已放款给贵单位。" in n for n in zh_notes)
    assert any("危险废物经营许可证 L-77 将于 30 天后（2026-12-06）到期" in n for n in zh_notes)
    api_zh = client.get("/api/v1/notifications", headers=bearer(generator)).get_json()
    assert api_zh["unread"] == 2
    assert api_zh["items"][1]["title"] == "订单 HZ-20261206-0001 的 ¥12,345.67 已放款给贵单位。"

    assert client.post("/language", data={"locale": "en"}).status_code == 302
    en_notes = _notes_of(client.get("/inbox", headers=ZH).get_data(as_text=True))
    assert any("¥12,345.67 of order HZ-20261206-0001 was released to you." in n for n in en_notes)
    assert any("L-77 expires in 30 days (6 Dec 2026)" in n for n in en_notes)
    dashboard = client.get("/dashboard").get_data(as_text=True)  # the latest notes, too
    assert "¥12,345.67 of order HZ-20261206-0001 was released to you." in dashboard
    # the person's own words stay as written; nothing else on the entries is Chinese
    assert any("这是对方写的备注" in n for n in en_notes)
    assert not CJK.search(" ".join(en_notes).replace("这是对方写的备注", ""))
    # the API follows the saved choice (no session there), also for the notes written before it
    api_en = client.get("/api/v1/notifications", headers=bearer(generator)).get_json()
    titles = [item["title"] for item in api_en["items"]]
    assert titles[1] == "¥12,345.67 of order HZ-20261206-0001 was released to you."
    assert titles[0].endswith("L-77 expires in 30 days (6 Dec 2026)")
    assert api_en["items"][1]["body"] == "这是对方写的备注"
    assert not any(CJK.search(t) for t in titles)


def test_the_email_is_written_in_the_recipients_language(generator):
    english = UserFactory(org=generator.org, locale="en")
    generator.locale = "zh_CN"
    db.session.commit()
    with transaction():
        notify_org(generator.org_id, "escrow.released",
                   message("%(amount)s of order %(number)s was released to you.",
                           amount=as_money(50000), number="HZ-1"))
    subjects = dict(db.session.execute(select(EmailMessage.to_address, EmailMessage.subject)).all())
    assert subjects[english.email] == "¥500.00 of order HZ-1 was released to you."
    assert subjects[generator.email] == "订单 HZ-1 的 ¥500.00 已放款给贵单位。"


def test_rows_from_before_the_message_keys_show_their_stored_text(client, generator):
    with transaction():
        db.session.add(Notification(user_id=generator.id, kind="old", title="旧的通知", body="正文"))
    login(client, generator)
    client.post("/language", data={"locale": "en"})
    assert any("旧的通知" in n and "正文" in n
               for n in _notes_of(client.get("/inbox").get_data(as_text=True)))


@pytest.mark.parametrize("title, body", [
    ("Order HZ-1 was cancelled.", None),           # already translated text: refused
    (message("Order %(number)s was cancelled.", number="HZ-1"), "a reason"),
])
def test_plain_text_is_refused_and_nothing_is_stored(generator, title, body):
    before = db.session.scalar(select(func.count()).select_from(Notification))
    with pytest.raises(TypeError):
        with transaction():
            notify_user(generator, "order.cancelled", title, body)
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before
    assert db.session.scalar(select(func.count()).select_from(EmailMessage)) == 0


def test_parameters_must_be_plain_or_typed():
    with pytest.raises(TypeError):
        message("The sample for %(number)s was taken on %(day)s.", number="S-1",
                day=date(2026, 12, 6))  # a date must be as_date(): formatted when read
    with pytest.raises(TypeError):
        message("%(amount)s was paid out to your bank account.", amount={"yuan": 5})


def test_a_stored_message_whose_parameters_no_longer_fit_shows_its_stored_text(generator):
    with transaction():
        note = notify_user(generator, "escrow.released",
                           message("%(amount)s of order %(number)s was released to you.",
                                   amount=as_money(100), number="HZ-9"))
        note.title_params = {"number": "HZ-9"}  # as if the msgid had gained a parameter since
    db.session.refresh(note)
    assert note.shown_title == note.title and "HZ-9" in note.title
