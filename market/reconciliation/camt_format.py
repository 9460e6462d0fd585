"""ISO 20022 camt.053 (statements) and camt.054 (notifications) read with lxml.

A file may hold several accounts: only the custody account's statements are imported, the others
are listed in Parsed.skipped. Elements are found by local name, so every schema version reads.
"""
from __future__ import annotations

from lxml import etree

from market.reconciliation.statement import (N_, Line, Parsed, Statement, StatementRefused,
                                             at_line, normalise_account, to_date, to_fen)


def _children(el, name: str) -> list:
    return [c for c in el if isinstance(c.tag, str) and etree.QName(c).localname == name]


def _find(el, path: str):
    for name in path.split("/"):
        found = _children(el, name) if el is not None else []
        el = found[0] if found else None
    return el


def _text(el, path: str) -> str:
    found = _find(el, path)
    return (found.text or "").strip() if found is not None else ""


def _account(el) -> str:
    return _text(el, "Acct/Id/IBAN") or _text(el, "Acct/Id/Othr/Id")


def _signed(entry, where: str) -> int:
    amount = to_fen(_text(entry, "Amt"), where)
    indicator = _text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise StatementRefused(where, N_("CdtDbtInd %(text)s must be CRDT or DBIT"),
                               text=repr(indicator))
    return amount if indicator == "CRDT" else -amount


def _balance(stmt, code: str, where: str) -> int | None:
    for bal in _children(stmt, "Bal"):
        if _text(bal, "Tp/CdOrPrtry/Cd") == code:
            return _signed(bal, f"{where}/Bal[{code}]")
    return None


def _line(entry, where: str) -> Line:
    signed = _signed(entry, where)
    tx = _find(entry, "NtryDtls/TxDtls")
    party = "Dbtr" if signed > 0 else "Cdtr"
    name = (_text(tx, f"RltdPties/{party}/Nm") or _text(tx, f"RltdPties/{party}/Pty/Nm")
            ) if tx is not None else ""
    account = (_text(tx, f"RltdPties/{party}Acct/Id/IBAN")
               or _text(tx, f"RltdPties/{party}Acct/Id/Othr/Id")) if tx is not None else ""
    reference = _text(tx, "RmtInf/Ustrd") if tx is not None else ""
    txn_id = _text(entry, "AcctSvcrRef") or (_text(tx, "Refs/AcctSvcrRef") if tx is not None
                                              else "")
    if not txn_id:
        raise StatementRefused(where, N_("AcctSvcrRef (the bank's transaction id) is missing"))
    booked = to_date(_text(entry, "BookgDt/Dt") or _text(entry, "BookgDt/DtTm"), where)
    valued = _text(entry, "ValDt/Dt")
    return Line(where, booked, to_date(valued, where) if valued else booked, signed, name,
                account, reference, txn_id, None, _party_kind(tx, party))


def _party_kind(tx, party: str) -> str:
    """The bank's word on who the counterparty is: Id/PrvtId a private person, Id/OrgId an
    organisation (RltdPties/Dbtr/Id, or …/Dbtr/Pty/Id from camt.053.001.08 on)."""
    if tx is None:
        return ""
    for base in (f"RltdPties/{party}/Id", f"RltdPties/{party}/Pty/Id"):
        ident = _find(tx, base)
        if ident is not None:
            if _find(ident, "PrvtId") is not None:
                return "person"
            if _find(ident, "OrgId") is not None:
                return "organisation"
    return ""


def parse_camt(data: bytes, custody_account: str) -> Parsed:
    if not data.strip():
        raise StatementRefused("", N_("the file is empty: nothing imported"))
    try:
        root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False,
                                                             no_network=True))
    except etree.XMLSyntaxError as exc:
        raise StatementRefused(at_line(exc.lineno), N_("not well-formed XML (truncated?): "
                                                       "%(error)s"), error=exc.msg) from None
    body = _find(root, "BkToCstmrStmt")
    fmt, item = "camt.053", "Stmt"
    if body is None:
        body, fmt, item = _find(root, "BkToCstmrDbtCdtNtfctn"), "camt.054", "Ntfctn"
    if body is None:
        raise StatementRefused(etree.QName(root).localname,
                               N_("neither BkToCstmrStmt (camt.053) nor BkToCstmrDbtCdtNtfctn "
                                  "(camt.054)"))
    wanted = normalise_account(custody_account)
    parsed = Parsed(fmt, [])
    for n, stmt in enumerate(_children(body, item), start=1):
        where = f"{item}[{n}]"
        account = _account(stmt)
        if not account:
            raise StatementRefused(where, N_("Acct/Id is missing"))
        if normalise_account(account) != wanted:
            parsed.skipped.append({"element": where, "account": account})
            continue
        st = Statement(account, _text(stmt, "Id"), _balance(stmt, "OPBD", where),
                       _balance(stmt, "CLBD", where))
        if fmt == "camt.053" and (st.opening_fen is None or st.closing_fen is None):
            raise StatementRefused(where, N_("opening (OPBD) or closing (CLBD) balance missing"))
        for k, entry in enumerate(_children(stmt, "Ntry"), start=1):
            st.lines.append(_line(entry, f"{where}/Ntry[{k}]"))
        st.check_balances(where)
        parsed.statements.append(st)
    return parsed.require_lines()
