"""A contract version as HTML, then PDF with weasyprint (Chinese text in an embedded CJK font).

The contract is a Chinese legal document: its wording is fixed Chinese whatever the reader's UI
language, so the PDF template holds it as text rather than as translatable UI strings.
"""
from __future__ import annotations

from datetime import datetime

from flask import render_template
from flask_babel import force_locale

from market.contracts.capital import amount_in_capitals
from market.jobs.schedule import TZ

# Document vocabulary of the contract (Chinese only, like the rest of its text).
ANALYTE_NAMES = {"ph": "pH 值", "calorific_value": "热值", "halogens": "卤素含量", "sulphur": "硫含量",
                 "water": "含水率", "flash_point": "闪点", "Pb": "铅 (Pb)", "Cd": "镉 (Cd)",
                 "Cr": "铬 (Cr)", "Hg": "汞 (Hg)", "As": "砷 (As)", "Ni": "镍 (Ni)",
                 "Cu": "铜 (Cu)", "Zn": "锌 (Zn)"}
FORM_NAMES = {"solid": "固态", "sludge": "半固态（污泥）", "liquid": "液态",
              "gas_in_container": "气态（容器盛装）"}
HAZARD_NAMES = {"T": "毒性", "C": "腐蚀性", "I": "易燃性", "R": "反应性", "In": "感染性"}
LINE_NAMES = {"disposal": "处置费", "transport": "运输费", "sampling": "检测费"}
PARTY_NAMES = {"generator": "甲方（产废单位）", "operator": "乙方（经营单位）"}


def yuan(fen: int | None) -> str:
    """¥ with thousands separators and two decimals, independent of the reader's locale."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def tonnes(kg: int) -> str:
    return f"{kg / 1000:,.3f} 吨（{kg:,} 千克）"


def local_time(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S（北京时间）")


def contract_html(terms: dict, signatures: list[dict] | None = None) -> str:
    """The contract of `terms`; with `signatures` (party, org, signer, time, ip, sha256) the final
    copy, which adds the signature page."""
    with force_locale("zh_CN"):
        return render_template(
            "contracts/pdf/contract.html", t=terms, signatures=signatures, yuan=yuan,
            tonnes=tonnes, capitals=amount_in_capitals, analyte_names=ANALYTE_NAMES,
            form_names=FORM_NAMES, hazard_names=HAZARD_NAMES, line_names=LINE_NAMES,
            party_names=PARTY_NAMES, local_time=local_time)


def html_to_pdf(html: str) -> bytes:
    """PDF bytes of the HTML; fonts come from fontconfig (Debian fonts-noto-cjk)."""
    from weasyprint import HTML  # imported here: loading pango/cairo is slow for web processes
    return HTML(string=html).write_pdf()
