"""Pure settlement rules: from what was accepted and what is held, who gets what (DESIGN.md §4, §5).

No Flask, no database. The services feed plain numbers in and post what comes out. The disposal
line is re-priced at the accepted kilograms (received − refused, summed over the received
manifests, rounded once: amount = round_half_even(unit price × kg / 1000)); transport and sampling
lines settle as agreed. Each line's payer must hold enough to pay every line it pays in full:
otherwise the plan asks that payer for a top-up and releases nothing at all. Otherwise each line is
released (less a retention share of a positive disposal line, kept until the operator's disposal
certificate) and what is left is refunded to its payer.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping

from market.escrow.policies import LineTerms, Release, plan_release
from market.money import fee_fen, fee_increment, line_amount_fen


def settled_amount_fen(kind: str, agreed_amount_fen: int, unit_price_fen_per_t: int | None,
                       accepted_kg: int, minimum_fen: int | None = None) -> int:
    """The line's amount at settlement: the disposal line at the accepted kg (at least its minimum
    charge, a collection pickup's), the others as agreed."""
    if type(accepted_kg) is not int or accepted_kg < 0:
        raise ValueError("accepted kg must be a whole number, zero or more")
    if kind == "disposal":
        amount = line_amount_fen(unit_price_fen_per_t, accepted_kg)
        return max(amount, minimum_fen) if minimum_fen else amount
    return agreed_amount_fen


def settled_terms(contract: LineTerms, value_fen: int) -> LineTerms:
    """The contract terms of a line at its settled value (payer, payee and fee rate unchanged)."""
    if value_fen < 0:
        raise ValueError("a settled value is never negative: the payer is fixed by the contract")
    return replace(contract, value_fen=value_fen)


def retained_value_fen(t: LineTerms, retention_bps: int) -> int:
    """The part of a line kept until the disposal certificate: a share of a disposal line that the
    operator is paid (a negative-price line pays the generator, who has no certificate to give)."""
    if t.kind != "disposal" or t.fee_on_top or retention_bps <= 0:
        return 0
    return fee_fen(t.value_fen, retention_bps)


def out_fen(t: LineTerms, value_before: int, value_after: int) -> int:
    """What leaves escrow when a line's released value moves from value_before to value_after."""
    fee = fee_increment(value_before, value_after, t.fee_bps) if t.fee_on_top else 0
    return value_after - value_before + fee


@dataclass(frozen=True)
class LinePlan:
    """One line at settlement: its terms at the settled value and what happens to it now."""
    terms: LineTerms
    released_before: int   # value released before settlement (e.g. never, or by an admin)
    retained_value: int    # kept in escrow until the disposal certificate
    release: Release | None

    @property
    def fee_fen(self) -> int:
        return self.terms.fee_fen

    @property
    def released_value(self) -> int:
        """The line's released value once this plan is posted (before the retention)."""
        return self.released_before + (self.release.value_fen if self.release else 0)


@dataclass(frozen=True)
class SettlementPlan:
    lines: list[LinePlan]
    refunds: dict[int, int] = field(default_factory=dict)   # payer org → fen back to it
    topups: dict[int, int] = field(default_factory=dict)    # payer org → fen it must add first
    held: dict[int, int] = field(default_factory=dict)      # payer org → fen held before

    @property
    def ready(self) -> bool:
        """True when nothing is short: the plan releases and refunds; else it only asks."""
        return not self.topups

    @property
    def retained_out(self) -> int:
        """What stays in escrow for the retention (0 once nothing is retained)."""
        return sum(out_fen(lp.terms, lp.released_value, lp.terms.value_fen)
                   for lp in self.lines if lp.retained_value)


def plan_settlement(terms: Iterable[LineTerms], released_value: Mapping[int, int],
                    held: Mapping[int, int], retention_bps: int = 0) -> SettlementPlan:
    """Plan the settlement of an order whose lines are at their settled values.

    released_value: {line id: value already released}; held: {payer org: fen it still holds in
    escrow}. Raises ValueError when a line was already released beyond its settled value (that
    order needs an administrator's split, not a settlement).
    """
    if type(retention_bps) is not int or not 0 <= retention_bps <= 10_000:
        raise ValueError("retention must be 0 to 10 000 basis points")
    terms = list(terms)
    need: dict[int, int] = {}
    partial: list[tuple[LineTerms, int, int, int]] = []
    for t in terms:
        done = released_value.get(t.line_id, 0)
        if done > t.value_fen:
            raise ValueError(f"line {t.line_id} was released beyond its settled value "
                             f"({done} > {t.value_fen} fen)")
        retained = min(retained_value_fen(t, retention_bps), t.value_fen - done)
        now = t.value_fen - done - retained
        need[t.payer_org_id] = need.get(t.payer_org_id, 0) + out_fen(t, done, t.value_fen)
        partial.append((t, done, retained, now))
    topups = {org: fen - held.get(org, 0) for org, fen in need.items() if fen > held.get(org, 0)}
    if topups:
        return SettlementPlan([LinePlan(t, done, retained, None)
                               for t, done, retained, _now in partial],
                              topups=dict(sorted(topups.items())), held=dict(held))
    lines = [LinePlan(t, done, retained, plan_release(t, done, now) if now > 0 else None)
             for t, done, retained, now in partial]
    refunds = {org: fen - need.get(org, 0) for org, fen in sorted(held.items())
               if fen - need.get(org, 0) > 0}
    return SettlementPlan(lines, refunds=refunds, held=dict(held))


def plan_retention(t: LineTerms, released_value_fen: int) -> Release | None:
    """The release of what is left of a line once its disposal certificate is in (None if nothing)."""
    left = t.value_fen - released_value_fen
    return plan_release(t, released_value_fen, left) if left > 0 else None


def amount_matches(settled_fen: int, unit_price_fen_per_t: int, accepted_kg: int,
                   minimum_fen: int | None = None) -> bool:
    """The independent check: the settled disposal amount is unit price × accepted kg, rounded
    (at least the line's minimum charge)."""
    expected = line_amount_fen(unit_price_fen_per_t, accepted_kg)
    return settled_fen == (max(expected, minimum_fen) if minimum_fen else expected)
