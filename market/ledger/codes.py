"""Account codes, their kinds and sign conventions, and validation of posting lines (pure).

Postings are signed: a debit is positive, a credit negative, so every entry sums to zero.
Balances shown to people are *natural*: positive on the account's normal side (money at the bank
for clearing:*, money held or owed for escrow:*, payable:*, suspense:*, fees earned for revenue:*).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from market.errors import ValidationFailed

# kind → (normal sign, may go negative). Debit-normal kinds have sign +1, credit-normal −1.
KINDS: dict[str, tuple[int, bool]] = {
    "clearing": (1, True),    # money at the custody bank or PSP (asset)
    "expense": (1, True),     # gateway fees paid
    "escrow": (-1, False),    # held for one order (liability)
    "payable": (-1, False),   # owed to one organisation, awaiting payout (liability)
    "suspense": (-1, False),  # received, not yet matched: cannot give out more than came in
    "revenue": (-1, True),    # platform fees earned
}

_NAME = r"[a-z][a-z0-9_]{0,39}"
CODE_PATTERNS: dict[str, re.Pattern[str]] = {
    "clearing": re.compile(_NAME),           # gateway name: bank, stripe
    "suspense": re.compile(_NAME),
    "revenue": re.compile(_NAME),            # fees
    "expense": re.compile(_NAME),            # gateway_fees
    "escrow": re.compile(r"[A-Z0-9][A-Z0-9-]{0,39}"),  # order number, e.g. HX2026000123
    "payable": re.compile(r"[1-9][0-9]{0,17}"),        # organisation id
}
CODE_MAX_LENGTH = 60
MAX_LINE_FEN = 10**15  # ¥10 trillion: far beyond any order, far inside BIGINT
MAX_LINES = 50
MAX_KEY_LENGTH = 200
MAX_MEMO_LENGTH = 1000


@dataclass(frozen=True)
class AccountCode:
    code: str
    kind: str

    @property
    def sign(self) -> int:
        """+1 for debit-normal kinds, −1 for credit-normal ones."""
        return KINDS[self.kind][0]

    @property
    def may_go_negative(self) -> bool:
        return KINDS[self.kind][1]

    def natural(self, signed_fen: int) -> int:
        """Turn a signed (debit +) amount into this account's natural sign."""
        return signed_fen * self.sign


def parse_code(code: object, *, field: str = "account") -> AccountCode:
    """Validate an account code such as 'escrow:HX2026000123' and return it with its kind."""
    if not isinstance(code, str):
        raise ValidationFailed(f"{field}: account code must be a string, got {type(code).__name__}",
                               field=field)
    kind, sep, name = code.partition(":")
    if not sep or kind not in KINDS:
        raise ValidationFailed(
            f"{field}: account code {code!r} must start with one of "
            f"{', '.join(k + ':' for k in sorted(KINDS))}", field=field)
    if len(code) > CODE_MAX_LENGTH or not CODE_PATTERNS[kind].fullmatch(name):
        raise ValidationFailed(
            f"{field}: account code {code!r} is malformed: the part after '{kind}:' must match "
            f"{CODE_PATTERNS[kind].pattern}", field=field)
    return AccountCode(code, kind)


def validate_amount(amount: object, *, field: str) -> int:
    """Accept a plain non-zero int within range; refuse bool, float, Decimal, str and the rest."""
    # bool is a subclass of int: True would silently post 1 fen.
    if type(amount) is not int:
        raise ValidationFailed(
            f"{field}: amount must be an integer number of fen, got {type(amount).__name__} "
            f"{amount!r}", field=field)
    if amount == 0:
        raise ValidationFailed(f"{field}: amount must not be zero", field=field)
    if abs(amount) > MAX_LINE_FEN:
        raise ValidationFailed(f"{field}: amount {amount} fen is out of range (|amount| ≤ "
                               f"{MAX_LINE_FEN})", field=field)
    return amount


def validate_lines(lines: object) -> list[tuple[AccountCode, int]]:
    """Check every line (code, signed fen) and the entry as a whole; the error names the line."""
    if not isinstance(lines, (list, tuple)):
        raise ValidationFailed("lines must be a list of (account code, amount in fen) pairs",
                               field="lines")
    if len(lines) < 2:
        raise ValidationFailed(f"an entry needs at least two lines, got {len(lines)}",
                               field="lines")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"an entry has at most {MAX_LINES} lines, got {len(lines)}",
                               field="lines")
    out: list[tuple[AccountCode, int]] = []
    for i, line in enumerate(lines, start=1):
        field = f"line {i}"
        if not isinstance(line, (list, tuple)) or len(line) != 2:
            raise ValidationFailed(f"{field}: must be an (account code, amount in fen) pair, "
                                   f"got {line!r}", field=field)
        code = parse_code(line[0], field=field)
        amount = validate_amount(line[1], field=f"{field} ({code.code})")
        out.append((code, amount))
    total = sum(amount for _, amount in out)
    if total != 0:
        raise ValidationFailed(
            f"entry is unbalanced: debits and credits differ by {total} fen "
            f"(lines must sum to zero)", field="lines")
    return out


def validate_text(value: object, *, field: str, max_length: int, required: bool) -> str:
    """A key or memo: a string within its length limit (non-empty when required)."""
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a string, got {type(value).__name__}", field=field)
    if required and not value.strip():
        raise ValidationFailed(f"{field} must not be empty", field=field)
    if len(value) > max_length:
        raise ValidationFailed(f"{field} is longer than {max_length} characters", field=field)
    return value


def payload_hash(lines: list[tuple[str, int]], memo: str, reverses: int | None = None) -> str:
    """SHA-256 of the sorted lines and the memo: the order of the lines does not matter."""
    payload: dict[str, object] = {"lines": sorted([c, a] for c, a in lines), "memo": memo}
    if reverses is not None:
        payload["reverses"] = reverses
    canonical = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
