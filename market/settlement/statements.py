"""Monthly settlement statements: what moved on an organisation's payable in one calendar month.

A statement is read from the ledger, not re-derived: every posting on `payable:{org}` inside the
month (Asia/Shanghai) is one row, explained by the escrow Movement (release, refund) or the Payout
that posted it, so the rows' credits less debits equal the ledger's movement of the month to the
fen, and opening + credits − debits = closing. Money the organisation paid into escrow (funding)
is listed too, as information: it never touches its payable. The manifests of the organisation's
orders shipped or received in the month, with their weights, complete the picture.

Who may read: the organisation's own members, platform staff (any organisation), and regulators
whose region contains the organisation; anyone else gets a 404.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from market import db
from market.accounts.models import Organisation, User
from market.errors import NotFound
from market.escrow.models import Movement, Payout
from market.jobs.schedule import TZ
from market.ledger.models import Account, Entry, Posting
from market.listings.validation import today
from market.manifests.models import Manifest
from market.orders.models import Order, OrderLine
from market.settlement.models import Settlement

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
FIRST_MONTH = date(2020, 1, 1)
ROW_KINDS = ("funding", "release", "refund", "payout", "other")


@dataclass(frozen=True)
class Row:
    """One money event of the month; credit and debit are on the organisation's payable."""
    at: datetime
    kind: str                       # funding | release | refund | payout | other
    order_number: str | None = None
    line_kind: str | None = None
    counterparty: str | None = None
    manifests: tuple[str, ...] = ()
    accepted_kg: int | None = None
    unit_price_fen_per_t: int | None = None
    paid_in_fen: int = 0            # paid into escrow by the organisation (funding)
    value_fen: int = 0              # the part of the line's value released
    fee_fen: int = 0                # platform fee kept from (or on top of) the release
    credit_fen: int = 0             # payable credited: owed to the organisation grows
    debit_fen: int = 0              # payable debited: paid out
    reference: str = ""


@dataclass(frozen=True)
class ManifestRow:
    number: str
    order_number: str
    status: str
    shipped_at: datetime | None
    received_at: datetime | None
    sent_kg: int
    accepted_kg: int | None


@dataclass
class Statement:
    org: Organisation
    month: date
    start: datetime
    end: datetime
    opening_fen: int
    rows: list[Row] = field(default_factory=list)
    manifests: list[ManifestRow] = field(default_factory=list)

    def total(self, name: str, kind: str | None = None) -> int:
        return sum(getattr(r, name) for r in self.rows if kind is None or r.kind == kind)

    @property
    def closing_fen(self) -> int:
        return self.opening_fen + self.total("credit_fen") - self.total("debit_fen")

    @property
    def label(self) -> str:
        return month_label(self.month)


# --- months --------------------------------------------------------------------------------------

def month_label(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def bounds(month: date) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, in Asia/Shanghai (aware datetimes)."""
    nxt = next_month(month)
    return (datetime(month.year, month.month, 1, tzinfo=TZ),
            datetime(nxt.year, nxt.month, 1, tzinfo=TZ))


def parse_month(text: str) -> date:
    """A "YYYY-MM" from FIRST_MONTH up to the current month, or NotFound (it is part of a URL)."""
    m = MONTH.match(text or "")
    if m is None or not 1 <= int(m.group(2)) <= 12:
        raise NotFound(_("No such statement."))
    month = date(int(m.group(1)), int(m.group(2)), 1)
    if not FIRST_MONTH <= month <= today().replace(day=1):
        raise NotFound(_("No such statement."))
    return month


def payable_code(org_id: int) -> str:
    return f"payable:{org_id}"


def months_of(org_id: int) -> list[date]:
    """Months with money on the organisation's payable or paid in by it, and the current month;
    newest first."""
    local = func.timezone(str(TZ), Entry.posted_at)
    posted = (select(func.date_trunc("month", local).label("m"))
              .select_from(Posting).join(Account, Account.id == Posting.account_id)
              .join(Entry, Entry.id == Posting.entry_id)
              .where(Account.code == payable_code(org_id)))
    funded = (select(func.date_trunc("month", local).label("m"))
              .select_from(Movement).join(Entry, Entry.id == Movement.entry_id)
              .where(Movement.org_id == org_id, Movement.kind == "fund"))
    found = {m.date() for m in db.session.scalars(posted.union(funded))}
    found.add(today().replace(day=1))
    return sorted(found, reverse=True)


# --- who may read --------------------------------------------------------------------------------

def statement_org(user: User, org_id: int) -> Organisation:
    """The organisation whose statements the user may read, or NotFound."""
    org = db.session.get(Organisation, org_id)
    if org is None or org.kind != "enterprise":
        raise NotFound(_("No such organisation."))
    if user.is_platform or user.org_id == org.id:
        return org
    if user.is_regulator and org.region_code.startswith(user.org.scope_prefix or "\x00"):
        return org
    raise NotFound(_("No such organisation."))


# --- the statement -------------------------------------------------------------------------------

def opening_balance(org_id: int, start: datetime) -> int:
    """What the platform owed the organisation just before `start` (natural sign: owed > 0)."""
    signed = db.session.scalar(
        select(func.coalesce(func.sum(Posting.amount_fen), 0))
        .join(Account, Account.id == Posting.account_id).join(Entry, Entry.id == Posting.entry_id)
        .where(Account.code == payable_code(org_id), Entry.posted_at < start))
    return -int(signed)


def _payable_postings(org_id: int, start: datetime, end: datetime):
    return db.session.execute(
        select(Entry.id, Entry.posted_at, Entry.idempotency_key, Entry.memo, Posting.amount_fen)
        .join(Posting, Posting.entry_id == Entry.id).join(Account, Account.id == Posting.account_id)
        .where(Account.code == payable_code(org_id), Entry.posted_at >= start,
               Entry.posted_at < end)
        .order_by(Entry.posted_at, Entry.id, Posting.id)).all()


def _fundings(org_id: int, start: datetime, end: datetime):
    return db.session.execute(
        select(Movement, Entry.posted_at).join(Entry, Entry.id == Movement.entry_id)
        .where(Movement.org_id == org_id, Movement.kind == "fund", Entry.posted_at >= start,
               Entry.posted_at < end).order_by(Entry.posted_at, Entry.id)).all()


@dataclass
class _OrderFacts:
    number: str
    generator_id: int
    operator_id: int
    manifests: tuple[str, ...] = ()
    accepted_kg: int | None = None


def _order_facts(order_ids) -> dict[int, _OrderFacts]:
    ids = sorted({i for i in order_ids if i is not None})
    if not ids:
        return {}
    out = {oid: _OrderFacts(number, gen, op) for oid, number, gen, op in db.session.execute(
        select(Order.id, Order.number, Order.generator_id, Order.operator_id)
        .where(Order.id.in_(ids)))}
    numbers = defaultdict(list)
    for oid, number in db.session.execute(
            select(Manifest.order_id, Manifest.number)
            .where(Manifest.order_id.in_(ids), Manifest.status != "cancelled")
            .order_by(Manifest.number)):
        numbers[oid].append(number)
    for oid, kg in db.session.execute(select(Settlement.order_id, Settlement.accepted_kg)
                                      .where(Settlement.order_id.in_(ids))):
        out[oid].accepted_kg = kg
    for oid, facts in out.items():
        facts.manifests = tuple(numbers[oid])
    return out


def _names(ids) -> dict[int, str]:
    ids = sorted({i for i in ids if i is not None})
    return dict(db.session.execute(select(Organisation.id, Organisation.name)
                                   .where(Organisation.id.in_(ids))).all()) if ids else {}


def build(org: Organisation, month: date) -> Statement:
    """The organisation's statement for the month (rows in posting order)."""
    start, end = bounds(month)
    statement = Statement(org, month, start, end, opening_balance(org.id, start))
    postings = _payable_postings(org.id, start, end)
    entry_ids = [p.id for p in postings]
    movements = {m.entry_id: m for m in db.session.scalars(
        select(Movement).where(Movement.entry_id.in_(entry_ids)))} if entry_ids else {}
    payout_ids = [int(p.idempotency_key.split(":", 1)[1]) for p in postings
                  if re.fullmatch(r"payout:\d+", p.idempotency_key)]
    payouts = {f"payout:{p.id}": p for p in db.session.scalars(
        select(Payout).where(Payout.id.in_(payout_ids)))} if payout_ids else {}
    fundings = _fundings(org.id, start, end)
    orders = _order_facts([m.order_id for m in movements.values()]
                          + [p.order_id for p in payouts.values()]
                          + [m.order_id for m, _at in fundings])
    line_ids = [m.line_id for m in movements.values() if m.line_id is not None]
    lines = {ln.id: ln for ln in db.session.scalars(
        select(OrderLine).where(OrderLine.id.in_(line_ids)))} if line_ids else {}
    names = _names([o.generator_id for o in orders.values()] + [o.operator_id for o in orders.values()])

    def about(order_id: int | None) -> dict:
        facts = orders.get(order_id)
        if facts is None:
            return {}
        other = facts.operator_id if facts.generator_id == org.id else facts.generator_id
        return {"order_number": facts.number, "counterparty": names.get(other),
                "manifests": facts.manifests}

    rows: list[Row] = []
    for p in postings:
        amount = int(p.amount_fen)
        money = {"credit_fen": -amount if amount < 0 else 0, "debit_fen": amount if amount > 0 else 0}
        movement, payout = movements.get(p.id), payouts.get(p.idempotency_key)
        if movement is not None and movement.kind in ("release", "refund"):
            line = lines.get(movement.line_id)
            facts = orders.get(movement.order_id)
            disposal = line is not None and line.kind == "disposal"
            rows.append(Row(
                p.posted_at, movement.kind, **about(movement.order_id),
                line_kind=line.kind if line is not None else None,
                accepted_kg=facts.accepted_kg if disposal and facts else None,
                unit_price_fen_per_t=line.unit_price_fen_per_t if disposal else None,
                value_fen=movement.value_fen if movement.kind == "release" else 0,
                fee_fen=movement.fee_fen, reference=movement.key, **money))
        elif payout is not None:
            rows.append(Row(p.posted_at, "payout", **about(payout.order_id),
                            reference=payout.external_id or payout.key, **money))
        else:  # a posting no escrow movement or payout explains (a correction, say): still counted
            rows.append(Row(p.posted_at, "other", reference=p.memo or p.idempotency_key, **money))
    for movement, at in fundings:
        rows.append(Row(at, "funding", **about(movement.order_id), paid_in_fen=movement.amount_fen,
                        reference=movement.key))
    statement.rows = sorted(rows, key=lambda r: r.at)
    statement.manifests = manifests_of(org.id, start, end)
    return statement


def manifests_of(org_id: int, start: datetime, end: datetime) -> list[ManifestRow]:
    """Manifests the organisation sent, carried or received, shipped or received in the window."""
    in_window = or_((Manifest.shipped_at >= start) & (Manifest.shipped_at < end),
                    (Manifest.received_at >= start) & (Manifest.received_at < end))
    party = or_(Manifest.generator_org_id == org_id, Manifest.carrier_org_id == org_id,
                Manifest.receiver_org_id == org_id)
    found = db.session.execute(
        select(Manifest, Order.number).join(Order, Order.id == Manifest.order_id)
        .where(party, in_window, Manifest.status != "cancelled").options(selectinload(Manifest.lines))
        .order_by(Manifest.shipped_at, Manifest.number)).all()
    return [ManifestRow(m.number, number, m.status, m.shipped_at, m.received_at, m.sent_kg,
                        m.accepted_kg) for m, number in found]
