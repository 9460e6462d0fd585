"""Payouts: the payee's bank account, payout batches (minimum, verified accounts only, once), the
bank file read back, statement lines that mark a batch line paid or returned, Connect lines."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market import db, ledger
from market.audit.models import AuditEvent
from market.errors import InvalidState, PermissionDenied, ValidationFailed
from market.escrow import payouts as escrow_payouts
from market.escrow.gateways.bank import PAYOUT_FILE_COLUMNS
from market.escrow.models import Payout
from market.ledger.models import Entry
from market.listings.validation import today
from market.notifications.models import Notification
from market.orders import settling
from market.reconciliation import imports
from market.reconciliation import jobs as recon
from market.settlement import bank_accounts, batches, payout_queries
from market.settlement import services as settlement
from market.settlement.payables import payables
from market.settlement.payout_models import BankAccount, PayoutBatch, PayoutBatchLine
from tests.factories import OrganisationFactory, UserFactory
from tests.settlement_factories import received_order
from tests.payout_factories import owe, verified_account
from tests.reconciliation_factories import Move, to_csv


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def notes(org_user, kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(
        Notification.user_id == org_user.id, Notification.kind == kind)))


def reasons(org_id: int) -> dict[str, int]:
    return {r.code: r.amount_fen for r in payables(org_id).pending_reasons}


# --- the bank account on file --------------------------------------------------------------------

def test_an_org_admin_sets_the_account_shown_masked_and_an_admin_verifies_it(operator, admin):
    account = bank_accounts.set_account(operator, "某某环保有限公司", "中国工商银行深圳分行",
                                        "6222-0200 1234 5678")
    assert account.account_number == "6222020012345678"
    assert account.masked == "•••• 5678" and account.status == "unverified"
    assert [a.id for a in bank_accounts.awaiting_verification()] == [account.id]
    bank_accounts.verify(admin, account.id)
    assert account.status == "verified" and account.verified_by_id == admin.id
    assert notes(operator, "settlement.bank_account_verified")
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "settlement.bank_account_verified")) is not None
    # changing it needs verification again
    bank_accounts.set_account(operator, "某某环保有限公司", "中国银行", "6217 0000 0000 0001")
    assert account.status == "unverified" and account.verified_at is None


# in the default language (Chinese): what is wrong and how to fix it
@pytest.mark.parametrize("number, words", [("6222 02OO 1234", "只能包含数字"),
                                           ("1234567", "有 7 位数字"),
                                           ("1" * 31, "有 31 位数字"), ("", "必填")])
def test_a_bad_account_number_is_refused_naming_the_field(operator, number, words):
    with pytest.raises(ValidationFailed) as err:
        bank_accounts.set_account(operator, "某某环保", "中国银行", number)
    assert err.value.field == "account_number" and words in err.value.message
    assert count(BankAccount) == 0


def test_only_the_org_admin_sets_it_and_only_a_platform_admin_verifies(operator, admin,
                                                                       finance):
    member = UserFactory(org=operator.org, is_org_admin=False)
    with pytest.raises(PermissionDenied):
        bank_accounts.set_account(member, "某某环保", "中国银行", "62220200123456")
    with pytest.raises(PermissionDenied):
        bank_accounts.set_account(finance, "某某环保", "中国银行", "62220200123456")
    account = bank_accounts.set_account(operator, "某某环保", "中国银行", "62220200123456")
    for who in (operator, finance):
        with pytest.raises(PermissionDenied):
            bank_accounts.verify(who, account.id)
    with pytest.raises(ValidationFailed):
        bank_accounts.reject(admin, account.id, "  ")
    assert account.status == "unverified"
    bank_accounts.reject(admin, account.id, "户名与营业执照不符")
    assert account.status == "rejected" and account.reason == "户名与营业执照不符"
    assert notes(operator, "settlement.bank_account_rejected")
    with pytest.raises(InvalidState):
        bank_accounts.verify(admin, account.id)


# --- building a batch ----------------------------------------------------------------------------

@pytest.fixture
def payees(operator, generator, carrier, admin, app):
    """operator: owed 200 000, verified; generator: owed 5 000 (below the minimum), verified;
    carrier: owed 300 000, account unverified."""
    app.config["PAYOUT_MINIMUM_FEN"] = 10_000
    owe(operator.org_id, 200_000)
    owe(generator.org_id, 5_000)
    owe(carrier.org_id, 300_000)
    verified_account(operator, admin, "6222020012345678")
    verified_account(generator, admin, "6222020099990000")
    bank_accounts.set_account(carrier, "某某运输", "中国银行", "6217000000000001")
    return dict(operator=operator, generator=generator, carrier=carrier)


def test_a_batch_pays_who_is_due_with_a_verified_account_and_writes_the_bank_file(
        payees, finance, operator, generator, carrier):
    batch = settling.build_payout_batch(finance, "k1")
    assert [(ln.org_id, ln.amount_fen, ln.status) for ln in batch.lines] == \
        [(operator.org_id, 200_000, "sent")]
    assert batch.total_fen == 200_000 and batch.line_count == 1
    # amounts locked: out of the payable, into clearing:bank, matched by the line reference
    assert ledger.balance(f"payable:{operator.org_id}") == 0
    assert ledger.balance("clearing:bank") == -200_000
    assert ledger.trial_balance().total == 0
    payout = db.session.get(Payout, batch.lines[0].payout_id)
    assert (payout.status, payout.external_id) == ("executed", batch.lines[0].reference)
    # the bank file, parsed back
    rows = list(csv.DictReader(io.StringIO(batch.file_csv)))
    assert tuple(csv.reader(io.StringIO(batch.file_csv)).__next__()) == PAYOUT_FILE_COLUMNS
    assert rows == [{"batch_reference": f"PB{batch.id:05d}",
                     "line_reference": batch.lines[0].reference,
                     "debtor_account": "4000000000000000000", "payee_name": operator.org.name,
                     "payee_bank": "中国工商银行深圳分行", "payee_account": "6222020012345678",
                     "amount": "2000.00", "currency": "CNY",
                     "remittance_info": f"Hazex payout {batch.lines[0].reference}"}]
    # the others are told why
    assert reasons(generator.org_id) == {"below_minimum": 5_000}
    assert reasons(carrier.org_id) == {"no_verified_account": 300_000}
    assert reasons(operator.org_id) == {"in_batch": 200_000}
    assert notes(operator, "settlement.payout_sent")


def test_building_is_idempotent_and_nothing_due_builds_nothing(payees, finance, operator):
    first = settling.build_payout_batch(finance, "k1")
    assert settling.build_payout_batch(finance, "k1").id == first.id
    before = (count(PayoutBatch), count(PayoutBatchLine), count(Entry), count(Payout))
    with pytest.raises(InvalidState):
        settling.build_payout_batch(finance, "k2")  # the operator's money is already out
    assert (count(PayoutBatch), count(PayoutBatchLine), count(Entry), count(Payout)) == before
    assert ledger.balance(f"payable:{operator.org_id}") == 0


def test_only_finance_builds_a_batch(payees, admin, operator):
    for who in (admin, operator):
        with pytest.raises(PermissionDenied):
            settling.build_payout_batch(who, "k")
    assert count(PayoutBatch) == 0 and ledger.balance(f"payable:{operator.org_id}") == 200_000


def test_a_batch_that_pays_everyone_of_a_settled_order_closes_it(generator, operator, finance,
                                                                 admin, app):
    app.config["PAYOUT_MINIMUM_FEN"] = 1
    order = received_order(generator.org, operator.org, transport_fen=40_000,
                           weights=((2_000, 1_900),), finance=finance)
    settlement.settle(order.id)
    verified_account(operator, admin, "6222020000000001")
    settling.build_payout_batch(finance, "k1")   # the generator's refund has no account yet
    db.session.refresh(order)
    assert order.status == "settled"
    verified_account(generator, admin, "6222020000000002")
    settling.build_payout_batch(finance, "k2")
    db.session.refresh(order)
    assert order.status == "closed" and ledger.trial_balance().total == 0


# --- the statement says paid, or returned -------------------------------------------------------

def _statement(finance, moves, name):
    imports.import_statement(finance, filename=name, data=to_csv(moves))
    recon.run_matching(finance)


def test_the_statement_marks_a_line_paid_then_a_return_reverses_it(payees, finance, operator):
    batch = settling.build_payout_batch(finance, "k1")
    line = batch.lines[0]
    day = today() - timedelta(days=1)
    _statement(finance, [Move(day, -200_000, line.reference, operator.org.name, "6222020012345678",
                              "P1")], "paid.csv")
    db.session.refresh(line)
    assert line.status == "paid" and line.paid_at is not None
    assert "in_batch" not in reasons(operator.org_id)

    _statement(finance, [Move(day, 200_000, line.reference, operator.org.name,
                              "6222020012345678", "P2")], "returned.csv")
    db.session.refresh(line)
    assert line.status == "returned"
    # the payable reappears, the ledger balances, clearing:bank equals the statement (0)
    assert ledger.balance(f"payable:{operator.org_id}") == 200_000
    assert ledger.balance("clearing:bank") == 0
    assert ledger.trial_balance().total == 0
    account = bank_accounts.account_of(operator.org_id)
    assert account.status == "returned"
    assert reasons(operator.org_id) == {"payout_returned": 200_000}
    assert notes(operator, "reconciliation.payout_returned")
    # not paid again until the account is corrected and verified
    with pytest.raises(InvalidState):
        settling.build_payout_batch(finance, "k2")


def test_finance_marks_a_return_once_and_refusals_change_nothing(payees, finance, admin,
                                                                 operator):
    batch = settling.build_payout_batch(finance, "k1")
    line = batch.lines[0]
    before = (count(Entry), ledger.balance(f"payable:{operator.org_id}"))
    for who, reason, error in ((admin, "closed", PermissionDenied),
                               (finance, " ", ValidationFailed)):
        with pytest.raises(error):
            batches.mark_returned(who, line.id, reason)
    assert (count(Entry), ledger.balance(f"payable:{operator.org_id}")) == before
    assert line.status == "sent"
    batches.mark_returned(finance, line.id, "账户已销户")
    assert line.status == "returned" and line.return_reason == "账户已销户"
    assert ledger.balance(f"payable:{operator.org_id}") == 200_000
    entries = count(Entry)
    with pytest.raises(InvalidState):
        batches.mark_returned(finance, line.id, "again")
    assert count(Entry) == entries
    # the bank's credit line arrives later: tied to the same reversal, nothing posted twice
    day = today() - timedelta(days=1)
    _statement(finance, [Move(day, -200_000, line.reference, operator.org.name, "1", "R1"),
                         Move(day, 200_000, line.reference, operator.org.name, "1", "R2")],
               "late.csv")
    assert count(Entry) == entries
    assert ledger.balance(f"payable:{operator.org_id}") == 200_000
    # corrected and verified again: the next batch pays it
    verified_account(operator, admin, "6217000011112222")
    again = settling.build_payout_batch(finance, "k2")
    assert [(ln.org_id, ln.amount_fen) for ln in again.lines] == [(operator.org_id, 200_000)]


def test_why_not_paid_names_the_reason_and_what_to_do(operator, admin, app):
    app.config["PAYOUT_MINIMUM_FEN"] = 10_000
    owe(operator.org_id, 50_000)
    assert reasons(operator.org_id) == {"no_verified_account": 50_000}
    account = bank_accounts.set_account(operator, "某某环保", "中国银行", "62220200123456")
    [why] = payables(operator.org_id).pending_reasons
    assert why.code == "no_verified_account" and "•••• 3456" in why.message
    bank_accounts.verify(admin, account.id)
    assert reasons(operator.org_id) == {"awaiting_payout_batch": 50_000}
    app.config["PAYOUT_MINIMUM_FEN"] = 60_000
    assert reasons(operator.org_id) == {"below_minimum": 50_000}


# --- Stripe Connect ------------------------------------------------------------------------------

from tests.services.test_stripe_connect import connect  # noqa: E402,F401  (the fake Connect API)


def test_a_connect_payee_is_paid_by_a_transfer_whose_status_the_batch_follows(
        connect, operator, generator, admin, finance, app):
    app.config["PAYOUT_MINIMUM_FEN"] = 10_000
    other = UserFactory(org=OrganisationFactory(types=["operator"]))
    owe(operator.org_id, 120_000)
    owe(other.org_id, 80_000)
    escrow_payouts.set_payout_account(operator.org_id, "stripe", "acct_1HazexOperator")
    verified_account(other, admin)
    batch = settling.build_payout_batch(finance, "k1")
    by_org = {ln.org_id: ln for ln in batch.lines}
    assert by_org[operator.org_id].gateway == "stripe"
    assert by_org[other.org_id].gateway == "bank"
    # only bank lines are in the bank file
    rows = list(csv.DictReader(io.StringIO(batch.file_csv)))
    assert [r["line_reference"] for r in rows] == [by_org[other.org_id].reference]
    transfer = db.session.get(Payout, by_org[operator.org_id].payout_id)
    assert transfer.status == "pending"
    assert reasons(operator.org_id) == {"in_batch": 120_000}
    # building again while the transfer is queued does not pay it twice
    with pytest.raises(InvalidState):
        settling.build_payout_batch(finance, "k2")
    assert escrow_payouts.execute_payout(transfer.id) == "executed"
    sent = connect.requests[0]["form"]
    assert sent["amount"] == "120000" and sent["destination"] == "acct_1HazexOperator"
    [line] = [ln for ln in payout_queries.batch_json(batch)["lines"]
              if ln["org_id"] == operator.org_id]
    assert (line["status"], line["transfer_id"]) == ("paid", "tr_000001")
    assert ledger.balance(f"payable:{operator.org_id}") == 0
    assert ledger.balance("clearing:stripe") == -120_000
    # made: no longer on its way, to the payee or in finance's queue
    assert reasons(operator.org_id) == {}
    assert payout_queries.queue().in_batch_fen == 80_000   # the bank line, until its statement
