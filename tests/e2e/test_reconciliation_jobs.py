"""A large statement in a real browser, in both languages: the upload leads to the progress page,
which reloads itself while the job runs and then shows the result; the receipt funded its order."""
from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Queue, SimpleWorker

from market import db
from market.db import utcnow
from market.jobs import redis_connection
from market.listings.validation import today
from market.orders import lifecycle
from market.orders.models import Order
from tests.e2e.test_sampling_contract import log_in, user
from tests.escrow_factories import make_order
from tests.reconciliation_factories import Move, to_csv

pytestmark = [pytest.mark.committed, pytest.mark.e2e]

WORDS = {"en": ("Waiting for its turn", "Imported and matched", "Imported 2 lines; 1 of them"),
         "zh-CN": ("排队等待处理", "已导入并完成匹配", "已导入 2 行，其中 1 行已匹配")}


@pytest.fixture
def one_line_is_large(csrf_app):
    before = csrf_app.config["RECON_JOB_LINES"]
    csrf_app.config["RECON_JOB_LINES"] = 1
    yield
    csrf_app.config["RECON_JOB_LINES"] = before


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_progress_page_follows_the_job_to_its_result(csrf_app, page_for, tmp_path, lang,
                                                          one_line_is_large):
    from market.demo import seed
    seed()
    order = make_order(user("gen1").org, user("op1").org)
    order.created_at = utcnow() - timedelta(days=5)
    db.session.commit()
    reference = lifecycle.request_funding(user("gen1"), order.id)["reference"]
    day = today() - timedelta(days=2)
    tag = lang.replace("-", "")
    statement = tmp_path / f"large-{tag}.csv"
    statement.write_bytes(to_csv([
        Move(day, order.total_fen, reference, user("gen1").org.name, "6222001", f"JOB-{tag}-1"),
        Move(day, -880, "", "ICBC", "", f"JOB-{tag}-2")]))
    db.session.commit()
    waiting, done, result = WORDS[lang]

    page = log_in(page_for, lang, "finance")
    page.goto("/finance/reconciliation")
    page.get_by_test_id("recon-file").set_input_files(str(statement))
    page.get_by_test_id("recon-upload").locator("button[type=submit]").first.click()
    page.wait_for_url("**/finance/reconciliation/progress?upload=*")
    assert page.get_by_test_id("upload-phase").inner_text() == waiting
    assert page.get_by_test_id("upload-percent").inner_text() == "0 %"

    conn = redis_connection()
    SimpleWorker([Queue("money", connection=conn)], connection=conn).work(burst=True)

    page.get_by_test_id("upload-done").wait_for(timeout=20_000)   # the page reloaded itself
    assert page.get_by_test_id("upload-phase").inner_text() == done
    assert page.get_by_test_id("upload-percent").inner_text() == "100 %"
    assert result in page.get_by_test_id("upload-done").inner_text()
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "funded"
    page.get_by_test_id("upload-back").click()
    assert page.locator("[data-testid=recon-upload-row][data-phase=done]").count() == 1
    page.context.close()
