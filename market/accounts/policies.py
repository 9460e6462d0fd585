"""Pure rules of the accounts context: identifiers, validity, uploads."""
from __future__ import annotations

from datetime import date

from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from market.accounts.models import LICENCE_KINDS

SCAN_TYPES = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg",
              b"\x89PNG\r\n\x1a\n": "image/png"}


def normalise_credit_code(value: str) -> str:
    """Return the canonical unified social credit code or raise ValueError with the reason."""
    try:
        return uscc.validate(value)
    except StdnumError as exc:
        raise ValueError(_uscc_reason(exc)) from exc


def _uscc_reason(exc: StdnumError) -> str:
    name = type(exc).__name__
    return {
        "InvalidLength": "must be 18 characters",
        "InvalidFormat": "contains characters a credit code cannot have",
        "InvalidChecksum": "check character does not match (GB 32100-2015)",
        "InvalidComponent": "contains an invalid component",
    }.get(name, "is not a valid unified social credit code")


def licence_validity_problem(kind: str, valid_from: date, valid_to: date) -> str | None:
    """Why a licence's validity period is impossible, or None when it is fine."""
    if kind not in LICENCE_KINDS:
        return "kind must be comprehensive or collection"
    if valid_to < valid_from:
        return "valid to must not be before valid from"
    years = LICENCE_KINDS[kind]
    try:
        limit = valid_from.replace(year=valid_from.year + years)
    except ValueError:  # 29 February
        limit = valid_from.replace(year=valid_from.year + years, day=28)
    if valid_to > limit:
        return f"a {kind} licence runs at most {years} years"
    return None


def sniff_scan_type(head: bytes) -> str | None:
    """The MIME type of an uploaded scan judged by its content, or None if not PDF/JPEG/PNG."""
    for magic, mime in SCAN_TYPES.items():
        if head.startswith(magic):
            return mime
    return None


def days_until(day: date, today: date) -> int:
    return (day - today).days


def region_in_scope(region_code: str, scope_prefix: str) -> bool:
    return region_code.startswith(scope_prefix)
