"""Ledger accounts named in the page language: escrow:HZ… → "Escrow — order HZ…", payable:45 →
"Payable — <organisation name>", clearing:bank → "Bank clearing". One naming function for every
page that shows an account code (finance keeps the code visible, small, beside the name)."""
from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.accounts.models import Organisation

FIXED = {  # code → msgid
    "clearing:bank": "Bank clearing",
    "clearing:stripe": "Card payments clearing (Stripe)",
    "suspense:bank": "Suspense — bank transfers",
    "suspense:stripe": "Suspense — card payments",
    "revenue:fees": "Platform fee revenue",
    "expense:gateway_fees": "Payment gateway fees",
}


def account_name(code: str, org_names: dict[int, str] | None = None) -> str:
    """The name of one account in the active language; org_names maps payable ids to names."""
    if code in FIXED:
        return _(FIXED[code])
    kind, _sep, rest = code.partition(":")
    if kind == "escrow":
        return _("Escrow — order %(number)s", number=rest)
    if kind == "payable":
        name = (org_names or {}).get(int(rest)) if rest.isdigit() else None
        if name:
            return _("Payable — %(org)s", org=name)
        return _("Payable — organisation %(id)s", id=rest)
    other = {"clearing": _("Clearing — %(name)s", name=rest),
             "suspense": _("Suspense — %(name)s", name=rest),
             "revenue": _("Revenue — %(name)s", name=rest),
             "expense": _("Expense — %(name)s", name=rest)}
    return other.get(kind, code)


def account_names(codes: Iterable[str]) -> dict[str, str]:
    """code → name for these accounts, with one query for the organisations behind payables."""
    codes = list(codes)
    ids = {int(c[len("payable:"):]) for c in codes
           if c.startswith("payable:") and c[len("payable:"):].isdigit()}
    orgs = dict(db.session.execute(select(Organisation.id, Organisation.name)
                                   .where(Organisation.id.in_(ids))).all()) if ids else {}
    return {c: account_name(c, orgs) for c in codes}
