"""The reconciliation desk in a real browser, in both languages: finance uploads a statement,
matches it (a receipt funds its order, a bank fee becomes an exception), resolves the fee by an
adjustment, closes the day, then builds a payout batch and downloads its bank file."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from market import db
from market.db import utcnow
from market.listings.validation import today
from market.orders import lifecycle
from market.orders.models import Order
from market.reconciliation.models import Day
from tests.e2e.conftest import confirm
from tests.e2e.test_sampling_contract import log_in, user
from tests.escrow_factories import make_order
from tests.payout_factories import owe
from tests.reconciliation_factories import Move, to_csv

pytestmark = [pytest.mark.committed, pytest.mark.e2e]

WORDS = {"en": ("Exceptions", "Matching done.", "Exception resolved.", "Day closed."),
         "zh-CN": ("异常", "匹配完成。", "异常已处理。", "日结完成。")}
BATCH_WORDS = {"en": ("Payout queue", "¥1,234.00 in total; lines: 1."),
               "zh-CN": ("付款队列", "已发出：共 ¥1,234.00，1 笔。")}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_desk_from_upload_to_close_of_day(csrf_app, page_for, tmp_path, lang):
    from market.demo import seed
    seed()
    order = make_order(user("gen1").org, user("op1").org)
    order.created_at = utcnow() - timedelta(days=5)  # placed before the statement day
    db.session.commit()
    reference = lifecycle.request_funding(user("gen1"), order.id)["reference"]
    day = today() - timedelta(days=2)
    tag = lang.replace("-", "")
    statement = tmp_path / f"statement-{tag}.csv"
    statement.write_bytes(to_csv([
        Move(day, order.total_fen, reference, user("gen1").org.name, "6222001", f"E2E-{tag}-1"),
        Move(day, -880, "", "ICBC", "", f"E2E-{tag}-2")]))
    db.session.commit()
    exceptions, matched, resolved, closed = WORDS[lang]

    page = log_in(page_for, lang, "finance")
    page.goto("/finance/reconciliation")
    page.get_by_test_id("recon-file").set_input_files(str(statement))
    page.get_by_test_id("recon-upload").locator("button[type=submit]").first.click()
    assert page.get_by_test_id("recon-import").count() >= 1
    page.get_by_test_id("recon-match").click()
    assert matched in page.content()
    assert exceptions in page.get_by_test_id("recon-exceptions").inner_text()
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "funded"

    fee = page.locator("[data-testid=recon-exception][data-kind=unmatched_line]").filter(
        has_text="8.80").first
    fee.locator("input[name=reason]").first.fill("bank fee" if lang == "en" else "银行手续费")
    fee.get_by_test_id("recon-adjust").click()
    assert resolved in page.content()

    page.get_by_test_id("recon-close-day").fill(day.isoformat())
    page.get_by_test_id("recon-close").click()
    assert closed in page.content()
    db.session.expire_all()
    row = db.session.scalar(select(Day).where(Day.day == day))
    assert row is not None and row.status in ("balanced", "different")
    assert page.locator("[data-testid=recon-day]").count() >= 1

    # Payouts: the demo operator is owed money and has a verified account; finance builds the
    # batch (confirming), and downloads the bank file.
    owe(user("op1").org_id, 123_400)
    queue_word, sent_word = BATCH_WORDS[lang]
    page.get_by_test_id("nav-payout-batches").click()
    assert queue_word in page.get_by_test_id("payout-queue").inner_text()
    assert page.locator(f"[data-testid=queue-row][data-org-id='{user('op1').org_id}']"
                        ).get_attribute("data-state") == "due"
    page.get_by_test_id("build-batch").click()
    confirm(page)
    assert sent_word in page.content()
    line = page.get_by_test_id("batch-line").first
    assert line.get_attribute("data-status") == "sent"
    with page.expect_download() as download:
        page.get_by_test_id("batch-file").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    assert [(r["line_reference"], r["amount"]) for r in rows] == [
        (line.get_attribute("data-reference"), "1234.00")]
    page.context.close()
