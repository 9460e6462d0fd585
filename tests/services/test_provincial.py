"""The provincial system behind its gateway: reports written with the use case, sent by a job,
retried through failures, each delivered exactly once; the provincial number is stored."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from market import db
from market.jobs.models import OutboxJob
from market.manifests import provincial
from market.manifests.jobs import send_provincial_report
from market.manifests.models import ProvincialReport
from tests.manifest_factories import carrier_user, funded_order, received


class FakeProvince:
    """A provincial system on 127.0.0.1: fails the first `failures` calls (one of them after
    filing the event, as a lost answer would), then answers; dedupes by Idempotency-Key."""

    def __init__(self, failures: int):
        self.failures, self.calls, self.filed = failures, 0, {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                fake.calls += 1
                assert self.path == "/manifest-events" and body["report_key"] == key
                if fake.calls <= fake.failures:
                    if fake.calls == fake.failures:  # filed, but the answer is lost
                        fake.filed.setdefault(key, []).append(body)
                    self.send_response(503)
                    self.end_headers()
                    return
                if key not in fake.filed:
                    fake.filed[key] = [body]
                number = "GD" + body["manifest"]["number"] + body["event"][0].upper()
                out = json.dumps({"provincial_number": number}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def province(app):
    fake = FakeProvince(failures=3)
    saved = {k: app.config[k] for k in ("PROVINCIAL_GATEWAY", "PROVINCIAL_URL")}
    app.config.update(PROVINCIAL_GATEWAY="http", PROVINCIAL_URL=fake.url)
    yield fake
    app.config.update(saved)
    fake.close()


def run_jobs() -> list[str]:
    """Run every queued provincial job once, as rq would; exceptions mean "retry later"."""
    out = []
    for report_id in db.session.scalars(select(ProvincialReport.id).order_by(ProvincialReport.id)):
        try:
            out.append(send_provincial_report(report_id))
        except provincial.ProvincialError:
            out.append("failed")
    return out


def test_reports_survive_failures_and_are_delivered_exactly_once(province, generator, operator,
                                                                 finance):
    carrier = carrier_user()
    order = funded_order(generator.org, operator.org, finance)
    m = received(generator, operator, order, carrier, 1_000)
    names = db.session.scalars(select(OutboxJob.name)).all()
    assert names.count("market.manifests.jobs.send_provincial_report") == 2
    assert run_jobs() == ["failed", "failed"]  # calls 1 and 2
    failed = db.session.scalars(select(ProvincialReport)).all()
    assert {r.status for r in failed} == {"failed"} and all("503" in r.last_error for r in failed)
    assert run_jobs() == ["failed", "sent"]  # call 3 files the shipped event but fails
    assert run_jobs() == ["sent", "skipped"]  # the retry is recognised by its key
    assert run_jobs() == ["skipped", "skipped"]
    assert sorted(province.filed) == [f"{m.number}-received", f"{m.number}-shipped"]
    assert all(len(v) == 1 for v in province.filed.values())
    reports = db.session.scalars(select(ProvincialReport).order_by(ProvincialReport.id)).all()
    assert [r.status for r in reports] == ["sent", "sent"]
    assert [r.attempts for r in reports] == [3, 2]
    assert m.provincial_number == f"GD{m.number}S"
    assert province.filed[f"{m.number}-received"][0]["lines"][0]["received_kg"] == 1_000


def test_the_file_gateway_writes_one_document_per_event(app, tmp_path, generator, operator,
                                                        finance):
    app.config["PROVINCIAL_DIR"] = str(tmp_path)
    carrier = carrier_user()
    order = funded_order(generator.org, operator.org, finance)
    m = received(generator, operator, order, carrier, 1_000)
    assert run_jobs() == ["sent", "sent"]
    assert run_jobs() == ["skipped", "skipped"]
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"{m.number}-received.json", f"{m.number}-shipped.json"]
    doc = json.loads((tmp_path / files[0]).read_text(encoding="utf-8"))
    assert doc["format"] == "hazex-manifest-event" and doc["event"] == "received"
    assert doc["receiver"]["method_code"] == "R9" and doc["carrier"]["vehicle_plate"] == "粤B12345"


def test_the_daily_sweep_queues_every_unsent_report_again(app, tmp_path, generator, operator,
                                                          finance):
    from market.manifests.jobs import resend_unsent_reports
    app.config["PROVINCIAL_DIR"] = str(tmp_path)
    carrier = carrier_user()
    order = funded_order(generator.org, operator.org, finance)
    received(generator, operator, order, carrier, 1_000)
    first = db.session.scalars(select(ProvincialReport.id).order_by(ProvincialReport.id)).first()
    send_provincial_report(first)
    queued = db.session.scalar(select(func.count()).select_from(OutboxJob))
    assert resend_unsent_reports("2026-12-06") == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxJob)) == queued + 1
