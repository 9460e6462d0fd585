"""One set of bank movements written as CSV, MT940 and camt.053 (the same money in each)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

CUSTODY = "4000 0000 0000 0000 000"


@dataclass(frozen=True)
class Move:
    day: date
    amount_fen: int          # + in, − out
    reference: str
    name: str
    account: str
    txn: str


def _yuan(fen: int) -> str:
    return f"{abs(fen) // 100}.{abs(fen) % 100:02d}"


def to_csv(moves: list[Move], opening: int = 0) -> bytes:
    rows = ["booking_date,value_date,amount,direction,counterparty_name,counterparty_account,"
            "reference,bank_txn_id,balance"]
    balance = opening
    for m in moves:
        balance += m.amount_fen
        rows.append(",".join([m.day.isoformat(), m.day.isoformat(), _yuan(m.amount_fen),
                              "C" if m.amount_fen > 0 else "D", m.name, m.account, m.reference,
                              m.txn, ("-" if balance < 0 else "") + _yuan(balance)]))
    return ("\n".join(rows) + "\n").encode()


def _mt_amount(fen: int) -> str:
    return f"{abs(fen) // 100},{abs(fen) % 100:02d}"


def _mt_balance(tag: str, fen: int, day: date) -> str:
    return f":{tag}:{'C' if fen >= 0 else 'D'}{day:%y%m%d}CNY{_mt_amount(fen)}"


def to_mt940(moves: list[Move], opening: int = 0, per_statement: int = 4) -> bytes:
    """Several statements in one file, each with its own opening and closing balance."""
    out: list[str] = []
    balance = opening
    for n, start in enumerate(range(0, len(moves), per_statement), start=1):
        chunk = moves[start:start + per_statement]
        out += [f":20:STMT{n}", f":25:{CUSTODY.replace(' ', '')}", f":28C:{n}/1",
                _mt_balance("60F", balance, chunk[0].day)]
        for m in chunk:
            balance += m.amount_fen
            kind = "NTRF" if m.reference else "NCHG"
            out.append(f":61:{m.day:%y%m%d}{m.day:%m%d}{'C' if m.amount_fen > 0 else 'D'}"
                       f"{_mt_amount(m.amount_fen)}{kind}NONREF//{m.txn}")
            out.append(f":86:/REF/{m.reference}/NAME/{m.name}/ACCT/{m.account}")
        out += [_mt_balance("62F", balance, chunk[-1].day), "-"]
    return ("\n".join(out) + "\n").encode()


def _bal(code: str, fen: int, day: date) -> str:
    return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"CNY\">"
            f"{_yuan(fen)}</Amt><CdtDbtInd>{'CRDT' if fen >= 0 else 'DBIT'}</CdtDbtInd>"
            f"<Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>")


def _entry(m: Move) -> str:
    party = "Dbtr" if m.amount_fen > 0 else "Cdtr"
    return (f"<Ntry><Amt Ccy=\"CNY\">{_yuan(m.amount_fen)}</Amt><CdtDbtInd>"
            f"{'CRDT' if m.amount_fen > 0 else 'DBIT'}</CdtDbtInd><Sts>BOOK</Sts>"
            f"<BookgDt><Dt>{m.day.isoformat()}</Dt></BookgDt><ValDt><Dt>{m.day.isoformat()}"
            f"</Dt></ValDt><AcctSvcrRef>{m.txn}</AcctSvcrRef><NtryDtls><TxDtls><RltdPties>"
            f"<{party}><Nm>{m.name}</Nm></{party}><{party}Acct><Id><Othr><Id>{m.account}</Id>"
            f"</Othr></Id></{party}Acct></RltdPties><RmtInf><Ustrd>{m.reference}</Ustrd>"
            f"</RmtInf></TxDtls></NtryDtls></Ntry>")


def to_camt053(moves: list[Move], opening: int = 0, other_account: bool = True) -> bytes:
    closing = opening + sum(m.amount_fen for m in moves)
    first, last = moves[0].day, moves[-1].day
    ours = (f"<Stmt><Id>S1</Id><Acct><Id><Othr><Id>{CUSTODY}</Id></Othr></Id></Acct>"
            + _bal("OPBD", opening, first) + _bal("CLBD", closing, last)
            + "".join(_entry(m) for m in moves) + "</Stmt>")
    other = ("<Stmt><Id>S2</Id><Acct><Id><IBAN>CN0000OTHER</IBAN></Id></Acct>"
             + _bal("OPBD", 0, first) + _bal("CLBD", 100, last)
             + _entry(Move(first, 100, "X", "Y", "Z", "OTHER-1")) + "</Stmt>") \
        if other_account else ""
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Document xmlns=\"urn:iso:std:iso:20022:"
            "tech:xsd:camt.053.001.08\"><BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId></GrpHdr>"
            + ours + other + "</BkToCstmrStmt></Document>").encode()


FORMATS = {"csv": to_csv, "mt940": to_mt940, "camt053": to_camt053}
