"""The operator's monthly operating report (经营情况月报, DESIGN.md §8), from the platform's
records: per category and method code, kilograms received in the month (accepted on received
manifests), utilised (R methods) and disposed (D and C methods) in the month — waste counts as
utilised or disposed when the operator uploads the order's disposal certificate — and in stock
at the month's end (everything received to date less everything utilised or disposed to date).
As rows, CSV and PDF (weasyprint, CJK font)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time

from flask import render_template
from sqlalchemy import case, func, select

from market import db
from market.accounts.models import Organisation
from market.contracts.rendering import html_to_pdf
from market.manifests.models import Manifest, ManifestLine
from market.oversight.feed import TZ, neutralise
from market.settlement.models import Settlement

COLUMNS = ("category", "method_code", "received_kg", "utilised_kg", "disposed_kg", "in_stock_kg")


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "Month":
        """YYYY-MM, or ValueError."""
        if len(text) != 7 or text[4] != "-":
            raise ValueError(text)
        year, month = int(text[:4]), int(text[5:])
        date(year, month, 1)
        return cls(year, month)

    @property
    def start(self) -> datetime:
        return datetime.combine(date(self.year, self.month, 1), time(), TZ)

    @property
    def end(self) -> datetime:
        nxt = date(self.year + (self.month == 12), self.month % 12 + 1, 1)
        return datetime.combine(nxt, time(), TZ)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def operating_rows(org_id: int, month: Month) -> list[dict]:
    kg = func.coalesce(ManifestLine.received_kg, 0) - func.coalesce(ManifestLine.refused_kg, 0)
    method = func.coalesce(Manifest.method_code, "")
    done_at = Settlement.certificate_at
    treated = lambda start=None: (done_at.is_not(None)) & (done_at < month.end) & (  # noqa: E731
        True if start is None else done_at >= start)
    utilising = method.like("R%")
    stmt = (select(ManifestLine.category_code, method,
                   func.sum(case((Manifest.received_at >= month.start, kg), else_=0)),
                   func.sum(case((treated(month.start) & utilising, kg), else_=0)),
                   func.sum(case((treated(month.start) & ~utilising, kg), else_=0)),
                   func.sum(case((treated(), 0), else_=kg)))
            .join(Manifest, Manifest.id == ManifestLine.manifest_id)
            .outerjoin(Settlement, Settlement.order_id == Manifest.order_id)
            .where(Manifest.receiver_org_id == org_id, Manifest.status.in_(("received", "closed")),
                   Manifest.received_at < month.end)
            .group_by(ManifestLine.category_code, method)
            .order_by(ManifestLine.category_code, method))
    return [dict(zip(COLUMNS, (cat, m, int(r), int(u), int(d), int(s))))
            for cat, m, r, u, d, s in db.session.execute(stmt)]


def report_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    for row in rows:
        w.writerow([neutralise(row[c]) for c in COLUMNS])
    return "\ufeff" + buf.getvalue()


def report_pdf(org: Organisation, month: Month, rows: list[dict]) -> bytes:
    totals = {c: sum(r[c] for r in rows) for c in COLUMNS[2:]}
    return html_to_pdf(render_template("oversight/pdf/operating_report.html", org=org,
                                       month=month, rows=rows, totals=totals))
