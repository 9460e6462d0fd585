"""The manifest as a PDF: all three parts, the signatures (who, when, how) and a QR code linking
to the public verification page. Like the contract, the document's wording is fixed Chinese."""
from __future__ import annotations

import hashlib
from urllib.parse import urlencode

import segno
from flask import current_app, render_template
from flask_babel import force_locale

from market import db
from market.catalog.models import DisposalMethod
from market.contracts.rendering import FORM_NAMES, HAZARD_NAMES, html_to_pdf, local_time
from market.manifests.models import Manifest

PART_NAMES = {"generator": "产生单位（发运）", "carrier": "运输单位（承运）",
              "receiver": "接收单位（接收）"}
METHOD_NAMES = {"login": "账号登录签名", "driver_code": "驾驶员一次性验证码"}
STATUS_NAMES = {"draft": "待发运", "shipped": "运输中", "received": "已接收", "closed": "已办结",
                "cancelled": "已作废"}


def verify_url(manifest: Manifest) -> str:
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/verify/manifest/{manifest.number}?" + urlencode({"h": manifest.verify_token})


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=4)


def masked_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else phone


def manifest_html(manifest: Manifest) -> str:
    method = db.session.get(DisposalMethod, manifest.method_code) if manifest.method_code else None
    url = verify_url(manifest)
    with force_locale("zh_CN"):
        return render_template(
            "manifests/pdf/manifest.html", m=manifest, order=manifest.order,
            method=method, verify_url=url, qr=qr_data_uri(url), part_names=PART_NAMES,
            method_names=METHOD_NAMES, status_names=STATUS_NAMES, form_names=FORM_NAMES,
            hazard_names=HAZARD_NAMES, local_time=local_time, masked_phone=masked_phone)


def manifest_pdf(manifest: Manifest) -> tuple[bytes, str]:
    """The PDF bytes and their SHA-256."""
    data = html_to_pdf(manifest_html(manifest))
    return data, hashlib.sha256(data).hexdigest()
