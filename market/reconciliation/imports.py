"""Importing a statement file: parsed whole or refused whole, once per file (by its hash)."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from itertools import repeat

import stripe
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from market import db
from market.accounts.models import User
from market.audit.services import record
from market.errors import PermissionDenied, ValidationFailed
from market.reconciliation import stripe_source
from market.reconciliation.camt_format import parse_camt
from market.reconciliation.csv_format import parse_csv
from market.reconciliation.errors import AlreadyImported, DaySignedOff, FileRefused
from market.reconciliation.models import Day, StatementImport, StatementLine
from market.reconciliation.mt940_format import parse_mt940
from market.reconciliation.statement import Parsed, StatementRefused, Text
from market.uow import transaction

FORMATS = ("csv", "mt940", "camt")
GATEWAYS = ("bank", "stripe")
MAX_BYTES = 50 * 1024 * 1024


def require_finance(actor: User | None) -> None:
    """Finance and admins reconcile; None is the system (a scheduled job)."""
    if actor is not None and actor.platform_role not in ("finance", "admin"):
        raise PermissionDenied(_("Only platform finance staff reconcile statements."))


def _say(text: Text | None) -> str:
    return _(text.msgid, **text.params) if text is not None else ""


def refusal(exc: StatementRefused) -> str:
    """A parser's refusal in the user's language, naming the line or element and the reason."""
    return refusal_text(exc.where_text, exc.reason_text)


def refusal_text(where: Text | None, reason: Text) -> str:
    if where is None:
        return _("Statement refused, nothing imported: %(reason)s", reason=_say(reason))
    return _("Statement refused, nothing imported: %(where)s: %(reason)s",
             where=_say(where), reason=_say(reason))


def skipped_notes(skipped: list) -> list[str]:
    """What an import left out (camt accounts other than the custody account), in words."""
    return [_("%(element)s: account %(account)s is not the custody account", **note)
            if isinstance(note, dict) else str(note) for note in skipped]


def detect_format(filename: str, data: bytes) -> str:
    head = data.lstrip(b"\xef\xbb\xbf \r\n\t")[:200]
    if head.startswith(b"<"):
        return "camt"
    if head.startswith(b":20:") or b"\n:20:" in head or filename.lower().endswith((".sta", ".940")):
        return "mt940"
    return "csv"


def parse(fmt: str, data: bytes) -> Parsed:
    if fmt == "csv":
        return parse_csv(data, current_app.config["CUSTODY_ACCOUNT_NUMBER"])
    if fmt == "mt940":
        return parse_mt940(data)
    if fmt == "camt":
        return parse_camt(data, current_app.config["CUSTODY_ACCOUNT_NUMBER"])
    raise ValidationFailed(_("Unknown statement format %(fmt)s.", fmt=fmt), field="format")


def check_file(gateway: str, data: bytes) -> None:
    if gateway not in GATEWAYS:
        raise ValidationFailed(_("Unknown gateway %(gateway)s.", gateway=gateway), field="gateway")
    if not isinstance(data, bytes) or len(data) > MAX_BYTES:
        raise ValidationFailed(_("The file must be at most 50 MB."), field="file")


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def refuse_imported(digest: str) -> None:
    """The same file twice is refused (the job's queue checks it before taking the file)."""
    earlier = db.session.scalar(select(StatementImport).where(StatementImport.file_hash == digest))
    if earlier is not None:
        raise AlreadyImported(_("This file was already imported (import %(id)s): nothing "
                                "imported.", id=earlier.id), field="file")


def import_statement(actor: User | None, *, filename: str, data: bytes, gateway: str = "bank",
                     fmt: str | None = None) -> StatementImport:
    """Store a statement's balances and lines; refuse it whole with the line and the reason."""
    require_finance(actor)
    check_file(gateway, data)
    fmt = fmt or detect_format(filename, data)
    try:
        parsed = parse(fmt, data)
    except StatementRefused as exc:
        raise FileRefused(refusal(exc), field="file") from None
    return store(actor, gateway, filename, parsed, file_hash(data))


def import_stripe(actor: User | None, since: datetime, until: datetime,
                  client: stripe.StripeClient | None = None) -> StatementImport:
    """Pull Stripe's balance transactions of [since, until) and store them as a statement."""
    require_finance(actor)
    if since >= until:
        raise ValidationFailed(_("%(field)s must be before %(other)s.", field="since",
                                 other="until"), field="since")
    client = client or stripe.StripeClient(current_app.config["STRIPE_API_KEY"], base_addresses=(
        {"api": current_app.config["STRIPE_API_BASE"]} if current_app.config.get(
            "STRIPE_API_BASE") else None))
    label = f"{since.isoformat()}..{until.isoformat()}"
    try:
        parsed = stripe_source.to_parsed(stripe_source.fetch(client, since, until), label)
    except StatementRefused as exc:
        raise FileRefused(refusal(exc), field="since") from None
    canonical = json.dumps([list(map(str, ln[:9])) for ln in parsed.lines], ensure_ascii=False)
    return store(actor, "stripe", f"stripe {label}", parsed,
                 hashlib.sha256(canonical.encode()).hexdigest())


_SEP = "\x1f"
LINE_COLUMNS = (("position", 100), ("booking_date", None), ("value_date", None),
                ("amount_fen", None), ("counterparty_name", 200), ("counterparty_account", 60),
                ("reference", 200), ("bank_txn_id", 100), ("balance_fen", None),
                ("party_kind", 20))


def _cut(values: Sequence, width: int | None) -> Sequence:
    """Texts longer than their column are cut (the file's own word stays in its hash)."""
    if width is None or not values or max(map(len, values)) <= width:
        return values
    return [v[:width] for v in values]


def _text_array(values: Sequence[str]):
    """A text[] parameter for = ANY(…): one string split by the server (fast for 100,000 ids),
    or an array parameter when an id holds the separator."""
    joined = _SEP.join(values)
    if joined.count(_SEP) != max(len(values) - 1, 0):
        return bindparam("values", list(values), type_=ARRAY(String))
    return func.string_to_array(bindparam("joined", joined, type_=String), _SEP)


def _copy_lines(import_id: int, gateway: str, parsed: Parsed) -> None:
    """All lines in one COPY on the session's connection (inside its transaction)."""
    columns = [_cut(parsed.column(name), width) for name, width in LINE_COLUMNS]
    names = ", ".join(["import_id", "gateway", *(name for name, _w in LINE_COLUMNS)])
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY recon_line ({names}) FROM STDIN") as copy:
        for row in zip(repeat(import_id), repeat(gateway), *columns):
            copy.write_row(row)


def store(actor: User | None, gateway: str, filename: str, parsed: Parsed,
          digest: str) -> StatementImport:
    """Keep a parsed statement once (by hash and by transaction id), outside signed-off days."""
    with transaction():
        refuse_imported(digest)
        txn_ids = parsed.column("bank_txn_id")
        if len(set(txn_ids)) != len(txn_ids):
            raise FileRefused(_("Statement refused: a bank transaction id appears twice in the "
                                "file."), field="file")
        seen = set(db.session.scalars(select(StatementLine.bank_txn_id).where(
            StatementLine.gateway == gateway, StatementLine.bank_txn_id == any_(
                _text_array(txn_ids)))))
        if seen:
            first = next(i for i, txn in enumerate(txn_ids) if txn in seen)
            raise AlreadyImported(_("Statement refused: %(where)s (bank transaction %(txn)s) "
                                    "was already imported from another file.",
                                    where=parsed.column("position")[first],
                                    txn=txn_ids[first]), field="file")
        days = set(parsed.column("booking_date"))
        closed = db.session.scalar(select(Day.day).where(
            Day.gateway == gateway, Day.status == "signed_off", Day.day.in_(days))
            .order_by(Day.day).limit(1))
        if closed is not None:
            raise DaySignedOff(_("Statement refused: %(day)s is signed off; it changes only "
                                 "through adjustment entries dated later.", day=closed),
                               field="file")
        statements = parsed.statements
        imp = StatementImport(
            gateway=gateway, format=parsed.format, filename=(filename or "")[:200],
            file_hash=digest, opening_fen=statements[0].opening_fen,
            closing_fen=statements[-1].closing_fen, first_day=min(days), last_day=max(days),
            line_count=parsed.line_count, skipped=parsed.skipped,
            statements=[{"account": st.account, "id": st.statement_id,
                         "opening_fen": st.opening_fen, "closing_fen": st.closing_fen,
                         "lines": st.line_count} for st in statements],
            imported_by_id=getattr(actor, "id", None))
        db.session.add(imp)
        db.session.flush()
        _copy_lines(imp.id, gateway, parsed)
        record("reconciliation.imported", imp, actor=actor, changes={
            "format": parsed.format, "lines": parsed.line_count, "hash": digest,
            "skipped": parsed.skipped})
        return imp
