"""Manifest pages: drafting from the order page, signing at pickup, the driver's no-login page,
receiving with weights, answering a discrepancy, the PDF with its QR code that really verifies."""
from __future__ import annotations

import re
from datetime import date, timedelta
import subprocess
from urllib.parse import urlsplit

from sqlalchemy import func, select

from market import db
from market.manifests.models import Manifest
from market.notifications.models import EmailMessage
from market.orders import lifecycle
from tests.manifest_factories import carrier_user, draft, funded_order, received, shipped
from tests.web.test_sampling_web import as_user, text


def _code() -> str:
    body = db.session.scalar(select(EmailMessage.body).order_by(EmailMessage.id.desc()).limit(1))
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_the_generator_drafts_a_manifest_from_the_order_page(client, generator, operator, finance):
    carrier = carrier_user()
    order = funded_order(generator.org, operator.org, finance)
    as_user(client, generator)
    page = client.get(f"/orders/{order.id}")
    assert b'data-action="create_manifest"' in page.data and b"new-manifest" in page.data
    resp = client.get(f"/orders/{order.id}/manifests/new")
    assert resp.status_code == 200
    form = {"carrier_org_id": carrier.org_id, "vehicle_plate": "粤B1234", "driver_name": "王师傅",
            "driver_phone": "13800138000", "planned_pickup_at": (date.today() + timedelta(days=1)).isoformat() + "T09:00",
            "quantity_kg": 1000, "packaging": "吨桶", "count": 2}
    resp = client.post(f"/orders/{order.id}/manifests/new", data=form)
    assert resp.status_code == 422 and "is not a vehicle plate" in text(resp)
    assert db.session.scalar(select(func.count()).select_from(Manifest)) == 0
    resp = client.post(f"/orders/{order.id}/manifests/new", data={**form, "vehicle_plate": "粤B12345"})
    assert resp.status_code == 302
    m = db.session.scalar(select(Manifest))
    assert m.vehicle_plate == "粤B12345" and m.sent_kg == 1000
    page = client.get(f"/manifests/{m.id}")
    assert b"sign-generator" in page.data and b"cancel-manifest" in page.data
    assert client.post(f"/manifests/{m.id}/sign", data={"role": "generator"}).status_code == 302
    assert m.signature("generator") is not None


def test_the_driver_signs_on_a_page_without_login(client, generator, operator, finance):
    carrier = carrier_user()
    order = funded_order(generator.org, operator.org, finance)
    m = draft(generator, order, carrier)
    lifecycle.sign_manifest(generator, m.id, role="generator")
    as_user(client, carrier)
    assert client.post(f"/manifests/{m.id}/driver-code", data={}).status_code == 302
    client.get("/logout")
    anon = client.application.test_client()
    anon.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    page = anon.get(f"/driver/manifests/{m.number}")
    assert page.status_code == 200 and "签署".encode() in page.data
    wrong = anon.post(f"/driver/manifests/{m.number}", data={"code": "000000" if _code() != "000000" else "111111"})
    assert wrong.status_code == 422 and m.signature("carrier") is None
    ok = anon.post(f"/driver/manifests/{m.number}", data={"code": _code()})
    assert ok.status_code == 302
    db.session.refresh(m)
    assert m.status == "shipped" and m.signature("carrier").method == "driver_code"


def test_receipt_and_discrepancy_on_the_page(client, generator, operator, finance):
    carrier = carrier_user()
    order = funded_order(generator.org, operator.org, finance)
    m = shipped(generator, order, carrier, 1_000)
    as_user(client, operator)
    page = client.get(f"/manifests/{m.id}")
    assert b"receive-form" in page.data
    line = m.lines[0].id
    resp = client.post(f"/manifests/{m.id}/receive", data={
        "method_code": "R9", f"received_kg-{line}": "920", f"refused_kg-{line}": "0"},
        follow_redirects=True)
    assert "explain the difference" in text(resp) and m.status == "shipped"
    client.post(f"/manifests/{m.id}/receive", data={
        "method_code": "R9", f"received_kg-{line}": "920", f"refused_kg-{line}": "0",
        f"comment-{line}": "含水率下降"})
    db.session.refresh(m)
    assert m.status == "received"
    as_user(client, generator)
    page = client.get(f"/manifests/{m.id}")
    assert b"confirm-discrepancy" in page.data
    client.post(f"/manifests/{m.id}/discrepancies/{line}", data={"action": "confirm"})
    assert m.lines[0].discrepancy.status == "confirmed"


def test_the_pdf_has_all_parts_in_chinese_and_a_qr_code_that_verifies(client, generator,
                                                                       operator, finance,
                                                                       tmp_path):
    carrier = carrier_user()
    order = funded_order(generator.org, operator.org, finance)
    m = received(generator, operator, order, carrier, 1_000, received_kg=990)
    as_user(client, generator)
    resp = client.get(f"/manifests/{m.id}.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    pdf = tmp_path / "m.pdf"
    pdf.write_bytes(resp.data)
    words = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                           capture_output=True).stdout.decode()
    for needle in ("危险废物转移联单", "第一部分", "产生单位", "第二部分", "运输单位", "第三部分",
                   "接收单位", m.number, "粤B12345", m.carrier.name, m.receiver.name,
                   m.licence_number, "账号登录签名", "990", "签章记录"):
        assert needle in words, needle
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], check=True,
                             capture_output=True).stdout.decode().strip()
    url = urlsplit(decoded)
    assert url.path == f"/verify/manifest/{m.number}" and "h=" in url.query
    anon = client.application.test_client()
    page = anon.get(f"{url.path}?{url.query}")
    assert page.status_code == 200 and b'data-testid="verified"' in page.data
    assert m.number.encode() in page.data
    assert m.driver_name.encode() not in page.data and m.driver_phone.encode() not in page.data
    assert anon.get(f"{url.path}?h=forged").status_code == 404
