"""A month of bank statements in CSV, MT940 and camt.053 versions of the same movements (receipts,
a payout batch of two lines, one paid and one returned by the bank), imported
and matched: exactly the expected exceptions, resolutions that balance, clearing:bank equal to the
statement's closing balance; files refused whole; re-running changes nothing."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from market import db, ledger
from market.errors import PermissionDenied
from market.escrow.models import Payout
from market.db import utcnow
from market.escrow.policies import make_reference, reference_status
from market.ledger.models import Entry
from market.listings.validation import today
from market.orders import lifecycle
from market.oversight.models import Alert
from market.reconciliation import close, desk, imports, reports
from market.reconciliation import jobs as recon
from market.reconciliation.errors import AlreadyImported, AlreadyResolved, DaySignedOff, FileRefused
from market.reconciliation.models import Match, ReconException, StatementImport, StatementLine
from market.settlement.payables import payables
from market.orders import settling
from market.settlement import bank_accounts
from market.uow import transaction
from tests.escrow_factories import make_order
from tests.payout_factories import owe, verified_account
from tests.reconciliation_factories import FORMATS, Move

DAY = today() - timedelta(days=20)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def month(generator, operator, carrier, lab, admin, finance):
    orders = [make_order(generator.org, operator.org, price=150_000, kg=2_000,
                         transport_fen=40_000) for _ in range(4)]
    with transaction():  # placed before the month whose statement pays them
        for o in orders:
            o.created_at = utcnow() - timedelta(days=30)
    for o in orders:
        lifecycle.request_funding(generator, o.id)
    refs = [make_reference(o.number) for o in orders]
    # a typo in the check digits (00 is as good as 97 under mod 97-10: pick one that is not)
    bad = next(refs[2][:-2] + f"{d:02d}" for d in range(100)
               if reference_status(refs[2][:-2] + f"{d:02d}") == "bad_check")
    # earlier settlements left the operator 100 000 and the lab 50 000 fen to pay out, to
    # verified accounts: one payout batch of two lines, whose bank file the bank executes
    owe(operator.org.id, 100_000)
    owe(lab.org.id, 50_000)
    verified_account(operator, admin, "6222020000000009")
    verified_account(lab, admin, "6222020000000017")
    batch = settling.build_payout_batch(finance, "month")
    ref = {ln.org_id: ln.reference for ln in batch.lines}
    paid, returned = ref[operator.org.id], ref[lab.org.id]
    d = lambda n: DAY + timedelta(days=n)  # noqa: E731
    moves = [Move(d(0), 340_000, refs[0], generator.org.name, "6222001", "T01"),
             Move(d(1), 400_000, refs[1], generator.org.name, "6222001", "T02"),   # overpaid
             Move(d(2), 340_000, bad, generator.org.name, "6222001", "T03"),       # mistyped
             Move(d(3), 340_000, refs[3], carrier.org.name, "6222555", "T04"),     # carrier pays
             Move(d(4), -1_250, "", "ICBC", "", "T05"),                            # bank fee
             Move(d(5), -100_000, paid, operator.org.name, "6222020000000009", "T06"),
             Move(d(5), -50_000, returned, lab.org.name, "6222020000000017", "T07"),
             Move(d(8), 50_000, returned, lab.org.name, "6222020000000017", "T08")]  # returned
    return dict(orders=orders, refs=refs, moves=moves, closing=sum(m.amount_fen for m in moves),
                batch=batch)


def kinds():
    return sorted((e.kind, db.session.get(StatementLine, e.line_id).bank_txn_id
                   if e.line_id else None) for e in db.session.scalars(select(ReconException)))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_month_imports_matches_and_closes(fmt, month, finance, operator, carrier, lab):
    data = FORMATS[fmt](month["moves"])
    imp = imports.import_statement(finance, filename=f"nov.{fmt}", data=data)
    assert imp.line_count == 8 and imp.closing_fen == month["closing"]
    recon.run_matching(finance)

    # exactly the expected exceptions
    assert kinds() == [("overpayment", "T02"), ("unmatched_line", "T03"),
                       ("unmatched_line", "T05")]
    rules = {db.session.get(StatementLine, m.line_id).bank_txn_id: m.rule
             for m in db.session.scalars(select(Match))}
    assert rules == {"T01": "funding_reference", "T02": "funding_reference",
                     "T04": "funding_reference", "T06": "reference", "T07": "reference",
                     "T08": "payout_return"}
    for o in (month["orders"][0], month["orders"][1], month["orders"][3]):
        db.session.refresh(o)
        assert o.status == "funded"
    # the batch: the operator's line paid; the lab's returned, its payable back, payout
    # failed, its account flagged and the lab told
    lines = {ln.org_id: ln for ln in month["batch"].lines}
    for ln in lines.values():
        db.session.refresh(ln)
    assert (lines[operator.org.id].status, lines[lab.org.id].status) == ("paid", "returned")
    assert ledger.balance(f"payable:{operator.org.id}") == 0
    assert ledger.balance(f"payable:{lab.org.id}") == 50_000
    assert db.session.get(Payout, lines[lab.org.id].payout_id).status == "failed"
    assert bank_accounts.account_of(lab.org.id).status == "returned"
    assert "payout_returned" in {r.code for r in payables(lab.org.id).pending_reasons}
    # the carrier paid toward a disposal order: direct payment alert
    alert = db.session.scalar(select(Alert).where(Alert.rule_id == "direct_payment"))
    assert alert is not None and alert.carrier_org_id == carrier.org.id
    assert alert.order_id == month["orders"][3].id

    # re-running changes nothing
    before = (count(Match), count(ReconException), count(Entry), count(Alert))
    recon.run_matching(finance)
    assert (count(Match), count(ReconException), count(Entry), count(Alert)) == before

    # not balanced yet: the fee and the mistyped receipt are missing from the ledger
    day = month["moves"][-1].day
    assert close.close_day(finance, "bank", day).status == "different"

    exc = {e.line_id and db.session.get(StatementLine, e.line_id).bank_txn_id: e
           for e in db.session.scalars(select(ReconException))}
    desk.resolve_by_adjustment(finance, exc["T05"].id, "expense:gateway_fees", "bank fee")
    recon.resolve_by_reference(finance, exc["T03"].id, month["refs"][2], "payer mistyped")
    db.session.refresh(month["orders"][2])
    assert month["orders"][2].status == "funded"
    assert ledger.balance("expense:gateway_fees") == 1_250
    # the day's difference was itself an exception: resolved by matching the ledger now
    diff = db.session.scalar(select(ReconException).where(
        ReconException.kind == "balance_difference"))
    assert diff.amount_fen == 340_000 - 1_250
    with transaction():
        diff.status, diff.resolution, diff.reason = "resolved", "manual_match", "explained"
    row = close.close_day(finance, "bank", day)
    assert row.status == "balanced"
    assert ledger.balance("clearing:bank") == month["closing"] == row.statement_fen

    # the overpayment goes back out of suspense: postings balance, suspense empty
    desk.resolve_by_suspense_refund(finance, exc["T02"].id, "RET-1", "overpaid")
    assert ledger.balance("suspense:bank") == 0
    assert ledger.trial_balance().total == 0
    close.sign_off(finance, "bank", day)
    with pytest.raises(DaySignedOff):
        close.close_day(finance, "bank", day)


def test_adjustment_reopens_only_by_reversal(month, finance):
    imports.import_statement(finance, filename="m.csv", data=FORMATS["csv"](month["moves"]))
    recon.run_matching(finance)
    fee = db.session.scalar(select(ReconException).join(StatementLine).where(
        StatementLine.bank_txn_id == "T05"))
    desk.resolve_by_adjustment(finance, fee.id, "expense:gateway_fees", "bank fee")
    with pytest.raises(AlreadyResolved):
        desk.resolve_by_adjustment(finance, fee.id, "expense:gateway_fees", "again")
    desk.reopen(finance, fee.id, "wrong account")
    db.session.refresh(fee)
    assert fee.status == "open" and ledger.balance("expense:gateway_fees") == 0
    before = count(ReconException)
    recon.run_matching(finance)
    assert count(ReconException) == before


def test_files_refused_whole_and_only_for_finance(month, finance, generator, admin):
    data = FORMATS["csv"](month["moves"])
    for bad, where in [(b"", "第"), (data[:-20], "第 9 行"),
                       (data.replace(b",3400.00\n", b",3000.00\n", 1), "第 3 行")]:
        with pytest.raises(FileRefused) as e:
            imports.import_statement(finance, filename="x.csv", data=bad)
        assert e.value.field == "file" and str(e.value).startswith("对账单被拒绝，未导入任何内容：")
        assert (where in str(e.value)) == bool(bad)
    assert count(StatementImport) == 0 and count(StatementLine) == 0
    with pytest.raises(PermissionDenied):
        imports.import_statement(generator, filename="x.csv", data=data)
    imports.import_statement(admin, filename="x.csv", data=data)
    with pytest.raises(AlreadyImported):
        imports.import_statement(finance, filename="again.csv", data=data)
    # the same movements in another format are the same bank transactions
    with pytest.raises(AlreadyImported):
        imports.import_statement(finance, filename="x.sta", data=FORMATS["mt940"](month["moves"]))
    assert count(StatementImport) == 1 and count(StatementLine) == 8


def test_the_daily_close_waits_for_the_statement_then_compares(month, finance):
    day = month["moves"][-1].day
    run_on = (day + timedelta(days=1)).isoformat()
    assert recon.close_of_day(run_on) == "waiting"       # no statement uploaded yet
    imports.import_statement(finance, filename="m.csv", data=FORMATS["csv"](month["moves"]))
    # the system does not book receipts (a person does): the day is different until finance runs
    assert recon.close_of_day(run_on) == "different"
    recon.run_matching(finance)
    for e in db.session.scalars(select(ReconException).where(
            ReconException.kind == "unmatched_line", ReconException.amount_fen < 0)):
        desk.resolve_by_adjustment(finance, e.id, "expense:gateway_fees", "bank fee")
    exc = db.session.scalar(select(ReconException).where(
        ReconException.kind == "unmatched_line", ReconException.amount_fen > 0))
    recon.resolve_by_reference(finance, exc.id, month["refs"][2], "payer mistyped")
    assert recon.close_of_day(run_on) == "balanced"


def test_camt054_notifications_import_without_balances(finance, month):
    data = FORMATS["camt053"](month["moves"]).replace(b"camt.053", b"camt.054") \
        .replace(b"BkToCstmrStmt", b"BkToCstmrDbtCdtNtfctn").replace(b"<Stmt>", b"<Ntfctn>") \
        .replace(b"</Stmt>", b"</Ntfctn>")
    imp = imports.import_statement(finance, filename="n.xml", data=data)
    assert imp.format == "camt.054" and imp.line_count == 8
    assert imp.skipped == [{"element": "Ntfctn[2]", "account": "CN0000OTHER"}]
    assert imports.skipped_notes(imp.skipped) == ["Ntfctn[2]：账户 CN0000OTHER 不是托管账户"]
    with force_locale("en"):
        assert imports.skipped_notes(imp.skipped) == [
            "Ntfctn[2]: account CN0000OTHER is not the custody account"]


def test_reports_after_a_month(month, finance, lab):
    imports.import_statement(finance, filename="m.csv", data=FORMATS["csv"](month["moves"]))
    recon.run_matching(finance)
    close.close_day(finance, "bank", month["moves"][-1].day)
    _h, rows = reports.payables()
    assert [lab.org.id, lab.org.name, 50_000] in rows  # its returned payout
    _h, rows = reports.escrow_by_age()
    assert {r[0] for r in rows} == {month["orders"][i].number for i in (0, 1, 3)}
    assert all(r[3] == "0–30" for r in rows)
    assert reports.fee_revenue()[1] == []
    _h, rows = reports.reconciliation_status()
    assert rows[0][2] == "different" and rows[0][5] >= 1
    _h, rows = reports.trial_balance()
    assert rows[-1] == ["total", 0]
