"""The lab's report: structured results checked against physical ranges, and the signed PDF."""
from __future__ import annotations

import hashlib
import secrets
from decimal import Decimal
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from market import db
from market.accounts.models import User
from market.accounts.uploads import size_label, write_file
from market.audit.services import record
from market.db import utcnow
from market.errors import ValidationFailed
from market.listings import validation as v
from market.notifications.messages import message
from market.notifications.services import notify_org
from market.sampling.analytes import ANALYTES, display, parse_value, range_problem
from market.sampling import state
from market.sampling.models import SamplingOrder, SamplingResult
from market.sampling.services import _lab_sampling, _order_still_sampling, move
from market.uow import transaction

REPORT_DIR = "sampling-reports"


def check_results(so: SamplingOrder, results: dict) -> list[dict]:
    """One {analyte, value, unit, method} per requested analyte, every value physically possible."""
    if not isinstance(results, dict):
        raise ValidationFailed(_("Results must map each analyte to its value and method."),
                               field="results")
    extra = [str(code) for code in results if code not in so.analytes]
    if extra:
        raise ValidationFailed(_("%(codes)s were not requested on this sampling order.",
                                 codes=", ".join(extra[:5])), field="results")
    rows = []
    for code in so.analytes:
        analyte, field = ANALYTES[code], f"results.{code}"
        entry = results.get(code)
        if not isinstance(entry, dict) or entry.get("value") in (None, ""):
            raise ValidationFailed(_("Enter a value for %(analyte)s.", analyte=code), field=field)
        value = parse_value(entry["value"])
        if value is None:
            raise ValidationFailed(_("%(analyte)s must be a number.", analyte=code), field=field)
        problem = range_problem(code, value)
        if problem == "decimals":
            raise ValidationFailed(_("%(analyte)s takes at most 4 decimal places.", analyte=code),
                                   field=field)
        if problem:
            limits = _("between %(low)s and %(high)s %(unit)s", low=f"{analyte.low:,}",
                       high=f"{analyte.high:,}", unit=analyte.unit)
            raise ValidationFailed(_("%(analyte)s %(value)s %(unit)s is physically impossible: it must "
                                     "be %(limits)s.", analyte=code, value=display(value),
                                     unit=analyte.unit, limits=limits), field=field,
                                   code="out_of_range")
        unit = entry.get("unit")
        if unit not in (None, "", analyte.unit):
            raise ValidationFailed(_("%(analyte)s is reported in %(unit)s.", analyte=code,
                                     unit=analyte.unit), field=field)
        method = v.text(entry.get("method") if isinstance(entry.get("method"), str) else "",
                        f"results.{code}.method", 100)
        if not method:
            raise ValidationFailed(_("Name the method standard for %(analyte)s (e.g. GB/T 7702, HJ 1082).",
                                     analyte=code), field=f"results.{code}.method")
        rows.append({"analyte": code, "value": value, "unit": analyte.unit, "method": method})
    return rows


def check_report_pdf(data: bytes | None) -> bytes:
    """The report's bytes when they are a plausible PDF (judged by content, not by name)."""
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    if not data:
        raise ValidationFailed(_("Attach the signed report as a PDF file."), field="report")
    if len(data) > limit:
        raise ValidationFailed(_("The file is larger than %(size)s.", size=size_label(limit)),
                               field="report")
    # A PDF starts with its header and ends with %%EOF (give or take trailing white space).
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-2048:]:
        raise ValidationFailed(_("The report must be a PDF file (judged by its content, not its name)."),
                               field="report", code="not_a_pdf")
    return data


def report_path(name: str) -> Path:
    """Where a stored report lives (outside static/, under a random name)."""
    return Path(current_app.config["UPLOAD_DIR"]) / REPORT_DIR / name


def report_results(actor: User, sampling_id: int, *, results: dict, report: bytes | None) -> SamplingOrder:
    """The lab enters its results and uploads the signed report; the operator may then decide."""
    with transaction():
        so, order = _lab_sampling(actor, sampling_id)
        if state.problem(so.status, "reported", "lab"):
            move(so, "reported", "lab")  # raises with the reason
        _order_still_sampling(order)
        rows = check_results(so, results)
        data = check_report_pdf(report)
        name = secrets.token_hex(16) + ".pdf"
        so.report_file = name  # before the status: the database insists a report has its file
        move(so, "reported", "lab")
        for row in rows:
            so.results.append(SamplingResult(**row))
        so.report_sha256 = hashlib.sha256(data).hexdigest()
        so.reported_at = utcnow()
        db.session.flush()
        record("sampling.reported", so, actor=actor, changes={
            "results": {r["analyte"]: f"{display(Decimal(r['value']))} {r['unit']}" for r in rows},
            "report_sha256": so.report_sha256})
        notify_org(order.operator_id, "sampling.reported",
                   message("Results for %(number)s are in: confirm the price or decline.", number=so.number),
                   link=f"/orders/{order.id}/sampling")
        notify_org(order.generator_id, "sampling.reported",
                   message("Results for %(number)s are in; the operator now confirms the price.",
                           number=so.number), link=f"/orders/{order.id}/sampling")
        # Written last, once every check passed; removed again if the commit fails.
        write_file(report_path(name), data)
        return so
