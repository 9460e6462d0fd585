"""Monthly settlement statements: the CSV's totals are the ledger's movements of the month to the
fen, text that a spreadsheet would run is neutralised, the PDF carries extractable Chinese."""
from __future__ import annotations

import csv
import io
import subprocess
from datetime import date

import pytest
from sqlalchemy import func, select

from market import db, ledger
from market.escrow.models import Movement
from market.ledger.models import Account, Entry, Posting
from market.listings.validation import today
from market.errors import NotFound
from market.settlement import payouts, services
from market.settlement import statement_documents as documents
from market.settlement import statements
from tests.factories import OrganisationFactory, UserFactory
from tests.settlement_factories import received_order


def pdftotext(data: bytes, tmp_path) -> str:
    path = tmp_path / "statement.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True).stdout.decode()


def this_month() -> date:
    return today().replace(day=1)


def parse(data: bytes) -> list[dict]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def ledger_month(code: str, month: date) -> tuple[int, int]:
    """(credits, debits) on an account inside the month, straight from the postings."""
    start, end = statements.bounds(month)
    rows = db.session.scalars(
        select(Posting.amount_fen).join(Account, Account.id == Posting.account_id)
        .join(Entry, Entry.id == Posting.entry_id)
        .where(Account.code == code, Entry.posted_at >= start, Entry.posted_at < end)).all()
    return -sum(a for a in rows if a < 0), sum(a for a in rows if a > 0)


@pytest.fixture
def settled(generator, operator, finance):
    """¥1 500/t × 1 890 kg accepted of 2 t funded, ¥400 transport; the operator paid ¥1 000 out."""
    order = received_order(generator.org, operator.org, transport_fen=40_000,
                           weights=((1_000, 970), (1_000, 920)), finance=finance)
    services.settle(order.id)
    payouts.record_bank_payout(finance, operator.org_id, 100_000, "BK-2026-0001")
    return order


def test_the_operator_statement_equals_the_ledger_of_the_month(settled, operator):
    st = statements.build(operator.org, this_month())
    rows = parse(documents.statement_csv(st))
    code = f"payable:{operator.org_id}"
    credits, debits = ledger_month(code, this_month())
    [total] = [r for r in rows if r["kind"] == "total"]
    assert int(total["payable_credit_fen"]) == credits == 283_500 - 2_835 + 40_000
    assert int(total["payable_debit_fen"]) == debits == 100_000
    [opening] = [r for r in rows if r["kind"] == "opening_balance"]
    [closing] = [r for r in rows if r["kind"] == "closing_balance"]
    assert int(opening["balance_fen"]) == 0
    assert int(closing["balance_fen"]) == ledger.balance(code) == credits - debits
    # releases: the disposal line at the accepted kg with its fee, and the transport line
    releases = [r for r in rows if r["kind"] == "release"]
    assert sorted((r["line"], int(r["value_fen"]), int(r["fee_fen"]), int(r["payable_credit_fen"]))
                  for r in releases) == [("disposal", 283_500, 2_835, 280_665),
                                         ("transport", 40_000, 0, 40_000)]
    disposal = next(r for r in releases if r["line"] == "disposal")
    assert (int(disposal["accepted_kg"]), int(disposal["unit_price_fen_per_t"])) == (1_890, 150_000)
    assert disposal["order"] == settled.number and len(disposal["manifests"].split()) == 2
    fees = db.session.scalar(select(func.sum(Movement.fee_fen)).where(
        Movement.org_id == operator.org_id, Movement.kind == "release"))
    assert int(total["fee_fen"]) == fees
    [payout] = [r for r in rows if r["kind"] == "payout"]
    assert (int(payout["payable_debit_fen"]), payout["reference"]) == (100_000, "BK-2026-0001")
    # the running balance ends at the closing balance
    assert [r for r in rows if r["balance_fen"]][-2]["balance_fen"] == closing["balance_fen"]
    assert len(st.manifests) == 2 and {m.accepted_kg for m in st.manifests} == {970, 920}


def test_the_generator_sees_what_it_paid_in_and_its_refund(settled, generator):
    st = statements.build(generator.org, this_month())
    rows = parse(documents.statement_csv(st))
    credits, debits = ledger_month(f"payable:{generator.org_id}", this_month())
    [total] = [r for r in rows if r["kind"] == "total"]
    assert int(total["paid_in_fen"]) == 340_000
    assert int(total["payable_credit_fen"]) == credits == 340_000 - 283_500 - 40_000
    assert int(total["payable_debit_fen"]) == debits == 0
    [refund] = [r for r in rows if r["kind"] == "refund"]
    assert int(refund["payable_credit_fen"]) == 16_500


def test_a_month_opens_where_the_last_one_closed(settled, operator):
    closing = statements.build(operator.org, this_month()).closing_fen
    later = statements.build(operator.org, statements.next_month(this_month()))
    assert (later.opening_fen, later.rows, later.closing_fen) == (closing, [], closing)
    earlier = statements.build(operator.org, date(2020, 1, 1))
    assert (earlier.opening_fen, earlier.rows) == (0, [])


def test_text_a_spreadsheet_would_run_is_neutralised(finance):
    gen = OrganisationFactory(types=["generator"], name='=HYPERLINK("http://evil.example","x")')
    op = OrganisationFactory(types=["operator"], region_code="441900", name="@SUM(1+1)")
    order = received_order(gen, op, weights=((2_000, 2_000),), finance=finance)
    services.settle(order.id)
    payouts.record_bank_payout(finance, op.id, 1_000, "-2+3")
    rows = parse(documents.statement_csv(statements.build(op, this_month())))
    [release] = [r for r in rows if r["kind"] == "release"]
    assert release["counterparty"] == "'" + gen.name
    [payout] = [r for r in rows if r["kind"] == "payout"]
    assert payout["reference"] == "'-2+3" and payout["payable_debit_fen"] == "1000"
    assert documents.neutralise(-5) == "-5" and documents.neutralise("+1") == "'+1"
    assert documents.neutralise("\tcmd") == "'\tcmd" and documents.neutralise("废矿物油") == "废矿物油"


def test_the_pdf_carries_the_chinese_text(settled, operator, tmp_path):
    st = statements.build(operator.org, this_month())
    flat = "".join(pdftotext(documents.statement_pdf(st), tmp_path).split())
    assert "资金结算对账单" in flat and "期末应付余额" in flat and "本期转移联单" in flat
    assert "".join(operator.org.name.split()) in flat and settled.number in flat
    assert "¥1,000.00" in flat  # the payout


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "abcd-ef", "2019-12", ""])
def test_months_outside_the_calendar_are_not_found(text):
    with pytest.raises(NotFound):
        statements.parse_month(text)
    future = statements.next_month(this_month())
    with pytest.raises(NotFound):
        statements.parse_month(statements.month_label(future))
    assert statements.parse_month(statements.month_label(this_month())) == this_month()


def test_who_may_read_an_organisations_statements(settled, operator, generator, admin, regulator):
    assert statements.statement_org(UserFactory(org=operator.org), operator.org_id) == operator.org
    assert statements.statement_org(admin, operator.org_id) == operator.org
    with pytest.raises(NotFound):
        statements.statement_org(generator, operator.org_id)
    # the operator (441900) lies outside the regulator's 4403; the generator (440306) inside
    with pytest.raises(NotFound):
        statements.statement_org(regulator, operator.org_id)
    assert statements.statement_org(regulator, generator.org_id) == generator.org
    assert statements.months_of(operator.org_id) == [this_month()]
