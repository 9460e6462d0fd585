"""A large statement file is imported and matched by a job: the upload leads to a page that shows
its progress and refreshes itself until the job is done, then the result; a refused file shows
the reason in the reader's language. The same over the API (202, then the progress endpoint)."""
from __future__ import annotations

import base64
import io

import pytest
from flask import current_app
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from market import db
from market.jobs import redis_connection
from market.reconciliation import uploads
from market.reconciliation.models import Match, StatementImport, StatementLine, StatementUpload
from tests.api.conftest import bearer
from tests.reconciliation_factories import FORMATS
from tests.services.test_reconciliation import month  # noqa: F401  (fixture)
from tests.web.marketplace import as_user, text


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def small_threshold(app):
    """The month's 8 lines count as a large file (the default is 2,000 lines or 1 MB)."""
    before = app.config["RECON_JOB_LINES"]
    app.config["RECON_JOB_LINES"] = 5
    yield
    app.config["RECON_JOB_LINES"] = before


def run_worker(redis_conn) -> None:
    SimpleWorker([Queue("money", connection=redis_conn)],
                 connection=redis_connection()).work(burst=True)
    db.session.expire_all()


def test_the_threshold_is_lines_or_bytes(app):
    assert current_app.config["RECON_JOB_LINES"] == 2_000
    assert not uploads.needs_job(b"x\n" * 2_000)
    assert uploads.needs_job(b"x\n" * 2_001)
    assert uploads.needs_job(b"x" * (1024 * 1024 + 1))


WORDS = {"en": ("Waiting for its turn", "Imported and matched", "Imported 8 lines; 6 of them are "
                "matched.", "refreshes itself"),
         "zh-CN": ("排队等待处理", "已导入并完成匹配", "已导入 8 行，其中 6 行已匹配。", "自动刷新")}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_large_file_goes_through_the_job_and_its_page_shows_progress_then_the_result(
        client, finance, month, small_threshold, redis_conn, lang):  # noqa: F811
    waiting, done, result, refreshing = WORDS[lang]
    as_user(client, finance, lang)
    resp = client.post("/finance/reconciliation/upload",
                       data={"file": (io.BytesIO(FORMATS["csv"](month["moves"])), "nov.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302 and "/finance/reconciliation/progress?upload=" in \
        resp.headers["Location"]
    up = db.session.scalar(select(StatementUpload))
    # queued, nothing imported yet; the page says so and asks the browser to come back
    assert count(StatementImport) == 0 and Queue("money", connection=redis_conn).count == 1
    page = client.get(resp.headers["Location"])
    assert page.status_code == 200 and page.headers["Refresh"] == "2"
    assert waiting in text(page) and refreshing in text(page) and "0 %" in text(page)
    assert 'data-phase="queued"' in page.get_data(as_text=True)
    desk = client.get("/finance/reconciliation")
    assert "nov.csv" in text(desk) and 'data-phase="queued"' in desk.get_data(as_text=True)

    run_worker(redis_conn)

    up = db.session.get(StatementUpload, up.id)
    assert (up.phase, up.percent, up.lines_parsed, up.lines_matched) == ("done", 100, 8, 6)
    imp = db.session.get(StatementImport, up.import_id)
    assert imp.line_count == 8 and imp.closing_fen == month["closing"]
    assert count(Match) == 6 and all(
        db.session.get(StatementLine, m.line_id).import_id == imp.id
        for m in db.session.scalars(select(Match)))
    for i in (0, 1, 3):   # the receipts by reference funded their orders
        db.session.refresh(month["orders"][i])
        assert month["orders"][i].status == "funded"
    page = client.get(f"/finance/reconciliation/progress?upload={up.id}")
    assert page.status_code == 200 and "Refresh" not in page.headers
    assert done in text(page) and result in text(page) and "100 %" in text(page)
    assert up.content == b""   # the file is let go once imported


@pytest.mark.parametrize("lang,reason", [
    ("en", "Statement refused, nothing imported: line 9: expected 9 columns, found 7 "
           "(truncated or malformed)"),
    ("zh-CN", "对账单被拒绝，未导入任何内容：第 9 行：应有 9 列，实际为 7 列（文件被截断或格式错误）")])
def test_a_refused_large_file_shows_the_reason_in_the_readers_language(
        client, finance, month, small_threshold, redis_conn, lang, reason):  # noqa: F811
    as_user(client, finance, lang)
    truncated = FORMATS["csv"](month["moves"])[:-20]
    resp = client.post("/finance/reconciliation/upload",
                       data={"file": (io.BytesIO(truncated), "cut.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    run_worker(redis_conn)
    up = db.session.scalar(select(StatementUpload))
    assert up.phase == "failed" and up.error["reason"][0].startswith("expected %(width)d")
    assert count(StatementImport) == 0 and count(StatementLine) == 0
    page = client.get(resp.headers["Location"])
    assert page.status_code == 200 and "Refresh" not in page.headers
    assert reason in text(page)
    # the other language reads the same refusal in its own words
    other = "zh-CN" if lang == "en" else "en"
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = other
    client.post("/language", data={"locale": "zh_CN" if other == "zh-CN" else "en"})
    page = client.get(resp.headers["Location"])
    assert reason not in text(page) and ("line 9" in text(page) or "第 9 行" in text(page))


def test_a_file_already_imported_is_refused_before_it_is_queued(client, finance, month,  # noqa: F811,E501
                                                                 small_threshold, redis_conn):
    as_user(client, finance, "en")
    data = FORMATS["csv"](month["moves"])
    client.post("/finance/reconciliation/upload", data={"file": (io.BytesIO(data), "a.csv")},
                content_type="multipart/form-data")
    run_worker(redis_conn)
    again = client.post("/finance/reconciliation/upload",
                        data={"file": (io.BytesIO(data), "b.csv")},
                        content_type="multipart/form-data", follow_redirects=True)
    assert again.status_code == 200 and "already imported" in text(again)
    assert count(StatementUpload) == 1 and count(StatementImport) == 1
    assert Queue("money", connection=redis_conn).count == 0


def test_the_progress_page_refuses_a_bad_or_unknown_upload(client, finance):
    as_user(client, finance, "en")
    for query in ("", "?upload=abc", "?upload=999999"):
        resp = client.get(f"/finance/reconciliation/progress{query}")
        assert resp.status_code == 404 and "No such statement upload." in text(resp)


def test_over_the_api_a_large_file_is_accepted_then_followed(client, finance, month,  # noqa: F811
                                                             small_threshold, redis_conn):
    data = base64.b64encode(FORMATS["mt940"](month["moves"])).decode()
    resp = client.post("/api/v1/finance/statements", headers=bearer(finance),
                       json={"filename": "nov.sta", "content_base64": data})
    assert resp.status_code == 202, resp.get_json()
    body = resp.get_json()
    assert body["phase"] == "queued" and body["finished"] is False and body["percent"] == 0
    run_worker(redis_conn)
    got = client.get(f"/api/v1/finance/statements/progress?upload_id={body['id']}",
                     headers=bearer(finance))
    assert got.status_code == 200
    assert {k: got.get_json()[k] for k in ("phase", "percent", "lines_parsed", "lines_matched",
                                            "finished")} == {
        "phase": "done", "percent": 100, "lines_parsed": 8, "lines_matched": 6, "finished": True}
    bad = client.get("/api/v1/finance/statements/progress?upload_id=x", headers=bearer(finance))
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "upload_id"
    missing = client.get("/api/v1/finance/statements/progress?upload_id=999999",
                         headers=bearer(finance))
    assert missing.status_code == 404
