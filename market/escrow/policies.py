"""Pure money rules of escrow: who pays each line, the fee, references, release and split plans.

No Flask, no database: the services feed these functions plain numbers and post what they return.
Amounts are integer fen. A line's *value* is what its payee is owed before the fee (the absolute
amount of the line); what its payer puts into escrow for it is the value, plus the fee on top when
the operator pays a negative-price disposal line (the fee always falls on the operator).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from stdnum.iso7064 import mod_97_10

from market.money import fee_fen, fee_increment

REFERENCE_PREFIX = "HX"  # every order number starts with it, so only ours are check-digit checked
OPERATOR_TAG = "O"       # marks the operator's funding request on a negative-price order
_NORMALISE = re.compile(r"[\s\-_/.]+")


@dataclass(frozen=True)
class LineTerms:
    """How one order line is paid: who pays, who is paid, its value and the fee rate."""
    line_id: int
    kind: str
    payer_org_id: int
    payee_org_id: int
    value_fen: int       # owed to the payee before the fee, ≥ 0
    fee_bps: int         # 0 for lines that carry no platform fee
    fee_on_top: bool     # True for a negative-price disposal line: the payer adds the fee

    @property
    def fee_fen(self) -> int:
        return fee_fen(self.value_fen, self.fee_bps)

    @property
    def funded_fen(self) -> int:
        """What the payer puts into escrow for this line."""
        return self.value_fen + (self.fee_fen if self.fee_on_top else 0)


@dataclass(frozen=True)
class Release:
    """One release of part of a line: out of escrow = payee amount + fee, exactly."""
    line_id: int
    payee_org_id: int
    value_fen: int
    fee_fen: int
    out_fen: int

    @property
    def payee_fen(self) -> int:
        return self.out_fen - self.fee_fen


def fee_bps_for(category: str, default_bps: int, overrides: Mapping[str, int]) -> int:
    """The platform fee rate for a waste category: its override, else the default."""
    return int(overrides.get(category, default_bps))


def line_terms(*, line_id: int, kind: str, amount_fen: int, payee_org_id: int, generator_id: int,
               operator_id: int, fee_bps: int) -> LineTerms:
    """Terms of one line. A negative disposal amount: the operator pays, the generator is paid."""
    if kind == "disposal" and amount_fen < 0:
        return LineTerms(line_id, kind, operator_id, generator_id, -amount_fen, fee_bps, True)
    # Only the disposal line carries the platform fee (DESIGN.md §5 Settlement).
    return LineTerms(line_id, kind, generator_id, payee_org_id, amount_fen,
                     fee_bps if kind == "disposal" else 0, False)


def funding_plan(terms: Iterable[LineTerms]) -> dict[int, int]:
    """{payer org id: fen it must put into escrow}, every line at its contract quantity."""
    plan: dict[int, int] = {}
    for t in terms:
        if t.funded_fen > 0:
            plan[t.payer_org_id] = plan.get(t.payer_org_id, 0) + t.funded_fen
    return plan


def plan_release(terms: LineTerms, released_value_fen: int, value_fen: int) -> Release:
    """Release value_fen more of a line whose released value so far is released_value_fen.

    Raises ValueError when the value is not a positive integer or exceeds what is left of the
    line; the fee is the increment of the cumulative fee, so the parts add up to the line's fee.
    """
    if type(value_fen) is not int or value_fen <= 0:
        raise ValueError("value must be a positive integer number of fen")
    after = released_value_fen + value_fen
    if after > terms.value_fen:
        raise ValueError(f"only {terms.value_fen - released_value_fen} fen of the line is left")
    fee = fee_increment(released_value_fen, after, terms.fee_bps)
    out = value_fen + fee if terms.fee_on_top else value_fen
    return Release(terms.line_id, terms.payee_org_id, value_fen, fee, out)


# --- bank references -----------------------------------------------------------------------------

def make_reference(order_number: str, operator_pays: bool = False) -> str:
    """Order number (+ 'O' for the operator's request) + two ISO 7064 mod 97-10 check digits."""
    base = order_number.upper() + (OPERATOR_TAG if operator_pays else "")
    return base + mod_97_10.calc_check_digits(base)


def normalise_reference(text: str) -> str:
    """Upper case without blanks or separators, as payers type references in many ways."""
    return _NORMALISE.sub("", text or "").upper()


def reference_status(text: str) -> str:
    """'ok' for one of our references with good check digits, 'bad_check' for one of ours with a
    typo, 'foreign' for anything that is not one of ours at all (to suspense)."""
    ref = normalise_reference(text)
    if not ref.startswith(REFERENCE_PREFIX) or not ref.isalnum() or len(ref) < 5:
        return "foreign"
    return "ok" if mod_97_10.is_valid(ref) else "bad_check"


# --- dispute splits ------------------------------------------------------------------------------

class SplitError(ValueError):
    """A split that cannot be posted; .org_id names the party at fault (None for the total)."""

    def __init__(self, message: str, org_id: int | None = None, limit: int | None = None):
        super().__init__(message)
        self.org_id = org_id
        self.limit = limit


def plan_split(terms: list[LineTerms], released: Mapping[int, int], held: Mapping[int, int],
               awards: Mapping[int, int]) -> tuple[list[Release], dict[int, int]]:
    """Turn an admin's split {org: fen} of everything held into releases and refunds.

    An award pays first what the party is owed as payee of its lines (in line order; a positive
    line's fee comes out of it), then refunds what it paid in. A negative line's fee is charged to
    that line's payer, out of its award. Raises SplitError when the awards do not add up to what
    is held, or a party would get more than its lines plus its own money, or the operator's award
    cannot cover the fee it owes.
    """
    total = sum(held.values())
    if sum(awards.values()) != total:
        raise SplitError(f"the split adds up to {sum(awards.values())} fen, not the {total} fen "
                         "held", limit=total)
    releases: list[Release] = []
    left: dict[int, int] = {}
    fee_owed: dict[int, int] = {}
    held_after = dict(held)
    for org_id, award in awards.items():
        remaining = award
        for t in terms:
            if t.payee_org_id != org_id or remaining == 0:
                continue
            done = released.get(t.line_id, 0)
            # A line is paid from its own payer's money only, never from another payer's.
            value = _largest_release(t, done, min(remaining, t.value_fen - done),
                                     held_after.get(t.payer_org_id, 0))
            if value <= 0:
                continue
            r = plan_release(t, done, value)
            releases.append(r)
            remaining -= r.value_fen
            held_after[t.payer_org_id] = held_after.get(t.payer_org_id, 0) - r.out_fen
            if t.fee_on_top:
                fee_owed[t.payer_org_id] = fee_owed.get(t.payer_org_id, 0) + r.fee_fen
        left[org_id] = remaining
    refunds: dict[int, int] = {}
    for org_id in awards:
        refund = left[org_id] - fee_owed.get(org_id, 0)
        if refund < 0:
            raise SplitError(f"organisation {org_id}'s share must cover the platform fee of "
                             f"{fee_owed[org_id]} fen it owes", org_id, fee_owed[org_id])
        if refund > max(held_after.get(org_id, 0), 0):
            raise SplitError(f"organisation {org_id} can get back at most "
                             f"{max(held_after.get(org_id, 0), 0)} fen beyond its lines",
                             org_id, max(held_after.get(org_id, 0), 0))
        if refund:
            refunds[org_id] = refund
    for org_id, fee in fee_owed.items():
        if org_id not in awards and fee:
            raise SplitError(f"organisation {org_id} owes a platform fee of {fee} fen; give it a "
                             f"share that covers it", org_id, fee)
    return releases, refunds


def _largest_release(t: LineTerms, done: int, wanted: int, cap_out: int) -> int:
    """The largest value ≤ wanted whose release takes at most cap_out out of escrow."""
    def out(v: int) -> int:
        return v + (fee_increment(done, done + v, t.fee_bps) if t.fee_on_top else 0)
    value = min(wanted, cap_out)
    while value > 0 and out(value) > cap_out:
        value -= out(value) - cap_out  # the fee grows no faster than the value
    while 0 <= value < wanted and out(value + 1) <= cap_out:
        value += 1  # rounding of the fee may leave room for a fen more
    return max(value, 0)
