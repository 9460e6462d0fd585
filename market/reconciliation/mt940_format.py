"""SWIFT MT940 statements through the mt940 package; each statement in a file keeps its balances.

The :86: narrative carries the payer's reference, name and account as /REF/…/NAME/…/ACCT/…
(docs/statements.md); the bank's transaction id is the bank reference after // in :61:.
"""
from __future__ import annotations

import re
from decimal import Decimal

import mt940

from market.reconciliation.statement import (N_, Line, Parsed, Statement, StatementRefused,
                                             Text, at_line)

_TAG = re.compile(r"^:(\d\d[A-Z]?):")
_KNOWN = {"20", "21", "25", "28", "28C", "60F", "60M", "61", "86", "62F", "62M", "64", "65"}
_LINE61 = re.compile(r"^:61:\d{6}(\d{4})?R?[CD][A-Z]?\d+,\d{0,2}[A-Z][A-Z0-9]{3}.*//\S+")
_NARRATIVE = re.compile(r"/(REF|NAME|ACCT)/([^/]*)")


def _fen(amount, where: Text) -> int:
    value = Decimal(str(amount.amount)) * 100
    if value != value.to_integral_value():
        raise StatementRefused(where, N_("amount %(amount)s has more than two decimals"),
                               amount=str(amount.amount))
    return int(value)


def _blocks(text: str) -> list[tuple[int, str]]:
    """Split the file into statements (each starts at :20:), checking every tag on the way."""
    blocks: list[tuple[int, list[str]]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line or line == "-":
            continue
        m = _TAG.match(line)
        if m and m.group(1) not in _KNOWN:
            raise StatementRefused(at_line(number), N_("unknown field :%(tag)s:"),
                                   tag=m.group(1))
        if m and m.group(1) == "61" and not _LINE61.match(line):
            raise StatementRefused(at_line(number), N_("malformed :61: statement line (date, "
                                                       "C/D, amount, type and //bank reference "
                                                       "expected)"))
        if line.startswith(":20:"):
            blocks.append((number, []))
        elif not blocks:
            raise StatementRefused(at_line(number), N_("a statement must start with :20:"))
        blocks[-1][1].append(line)
    return [(start, "\n".join(lines) + "\n") for start, lines in blocks]


def parse_mt940(data: bytes, account: str = "") -> Parsed:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StatementRefused(Text(N_("byte %(byte)d"), {"byte": exc.start}),
                               N_("the file is not UTF-8 text")) from None
    if not text.strip():
        raise StatementRefused("", N_("the file is empty: nothing imported"))
    statements: list[Statement] = []
    for start, block in _blocks(text):
        where = Text(N_("statement at line %(line)d"), {"line": start})
        for tag in (":25:", ":60", ":62"):
            if tag not in block:
                raise StatementRefused(where, N_("field %(tag)s is missing (truncated file?)"),
                                       tag=tag)
        parsed = mt940.models.Transactions()
        try:
            parsed.parse(block)
        except Exception as exc:  # the package raises assorted errors on bad fields
            raise StatementRefused(where, N_("not valid MT940: %(error)s"),
                                   error=str(exc)) from None
        info = parsed.data
        opening = info.get("final_opening_balance") or info.get("intermediate_opening_balance")
        closing = info.get("final_closing_balance") or info.get("intermediate_closing_balance")
        if opening is None or closing is None:
            raise StatementRefused(where, N_("opening or closing balance missing"))
        st = Statement(info.get("account_identification", ""), info.get("transaction_reference", ""),
                       _fen(opening.amount, where), _fen(closing.amount, where))
        for i, tr in enumerate(parsed, start=1):
            d = tr.data
            pos = Text(N_("statement at line %(line)d, transaction %(n)d"),
                       {"line": start, "n": i})
            details = dict(_NARRATIVE.findall((d.get("transaction_details") or "")
                                              .replace("\n", "")))
            booked = d.get("entry_date") or d["date"]
            st.lines.append(Line(str(pos), booked, d["date"], _fen(d["amount"], pos),
                                 details.get("NAME", "").strip(), details.get("ACCT", "").strip(),
                                 details.get("REF", "").strip() or (
                                     d.get("customer_reference") or "").replace("NONREF", ""),
                                 d.get("bank_reference") or "", None))
        st.check_balances(where)
        statements.append(st)
    return Parsed("mt940", statements).require_lines()
