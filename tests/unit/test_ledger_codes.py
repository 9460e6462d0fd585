"""Account codes, kinds, line validation and payload hashing: pure functions, no database."""
from decimal import Decimal

import pytest

from market.errors import ValidationFailed
from market.ledger.codes import (KINDS, MAX_LINE_FEN, parse_code, payload_hash, validate_amount,
                                 validate_lines, validate_text)


@pytest.mark.parametrize("code, kind, sign, may_go_negative", [
    ("clearing:bank", "clearing", 1, True),
    ("clearing:stripe", "clearing", 1, True),
    ("escrow:HX2026000123", "escrow", -1, False),
    ("payable:42", "payable", -1, False),
    ("suspense:bank", "suspense", -1, False),
    ("revenue:fees", "revenue", -1, True),
    ("expense:gateway_fees", "expense", 1, True),
])
def test_kind_sign_and_guard_follow_the_prefix(code, kind, sign, may_go_negative):
    parsed = parse_code(code)
    assert (parsed.kind, parsed.sign, parsed.may_go_negative) == (kind, sign, may_go_negative)


def test_escrow_and_payable_may_never_go_negative():
    assert not KINDS["escrow"][1] and not KINDS["payable"][1]


@pytest.mark.parametrize("code", [
    "", "bank", "clearing", "clearing:", "Clearing:bank", "cash:bank", "escrow:hx2026",
    "escrow:HX 2026", "payable:0", "payable:abc", "payable:-4", "revenue:Fees", "clearing:bank:x",
    "escrow:" + "A" * 41, " escrow:HX1", "escrow:HX1\n",
])
def test_malformed_codes_are_refused_with_the_rule(code):
    with pytest.raises(ValidationFailed) as err:
        parse_code(code)
    assert "account code" in err.value.message


@pytest.mark.parametrize("code", [None, 42, b"clearing:bank"])
def test_non_string_code_is_refused(code):
    with pytest.raises(ValidationFailed, match="must be a string"):
        parse_code(code)


def test_natural_sign():
    assert parse_code("escrow:HX1").natural(-500) == 500
    assert parse_code("clearing:bank").natural(500) == 500


@pytest.mark.parametrize("amount, word", [
    (1.5, "float"), (100.0, "float"), (True, "bool"), (False, "bool"), (Decimal("1"), "Decimal"),
    ("100", "str"), (None, "NoneType"),
])
def test_amount_must_be_a_plain_int(amount, word):
    with pytest.raises(ValidationFailed) as err:
        validate_amount(amount, field="line 1")
    assert word in err.value.message and "line 1" in err.value.message


def test_amount_zero_and_out_of_range_refused():
    with pytest.raises(ValidationFailed, match="zero"):
        validate_amount(0, field="line 2")
    with pytest.raises(ValidationFailed, match="out of range"):
        validate_amount(MAX_LINE_FEN + 1, field="line 2")
    assert validate_amount(-MAX_LINE_FEN, field="x") == -MAX_LINE_FEN


def test_lines_error_names_the_line():
    with pytest.raises(ValidationFailed) as err:
        validate_lines([("clearing:bank", 100), ("escrow:HX1", -99.5), ("revenue:fees", 0)])
    assert err.value.field == "line 2 (escrow:HX1)"
    assert "line 2" in err.value.message and "float" in err.value.message


@pytest.mark.parametrize("lines, fragment", [
    ([], "at least two lines"),
    ([("clearing:bank", 100)], "at least two lines"),
    ([("clearing:bank", 100), ("escrow:HX1", -90)], "unbalanced"),
    ([("clearing:bank", 100), ("escrow:HX1",)], "pair"),
    ([("clearing:bank", 100), "escrow:HX1"], "pair"),
    ("clearing:bank", "list"),
    ([("clearing:bank", 1)] * 51, "at most"),
])
def test_bad_entries_refused(lines, fragment):
    with pytest.raises(ValidationFailed, match=fragment):
        validate_lines(lines)


def test_valid_lines_parse():
    parsed = validate_lines([("clearing:bank", 100), ("escrow:HX1", -100)])
    assert [(c.code, a) for c, a in parsed] == [("clearing:bank", 100), ("escrow:HX1", -100)]


def test_payload_hash_ignores_line_order_but_not_content():
    a = payload_hash([("clearing:bank", 100), ("escrow:HX1", -100)], "fund")
    assert a == payload_hash([("escrow:HX1", -100), ("clearing:bank", 100)], "fund")
    assert a != payload_hash([("clearing:bank", 100), ("escrow:HX1", -100)], "fund HX1")
    assert a != payload_hash([("clearing:bank", 101), ("escrow:HX1", -101)], "fund")
    assert a != payload_hash([("clearing:bank", 100), ("escrow:HX1", -100)], "fund", reverses=7)


def test_text_validation():
    assert validate_text("k", field="idempotency_key", max_length=5, required=True) == "k"
    with pytest.raises(ValidationFailed, match="empty"):
        validate_text("  ", field="idempotency_key", max_length=5, required=True)
    with pytest.raises(ValidationFailed, match="longer"):
        validate_text("123456", field="memo", max_length=5, required=False)
    with pytest.raises(ValidationFailed, match="string"):
        validate_text(5, field="memo", max_length=5, required=False)


def test_database_kind_lists_agree_with_python():
    """The SQL in the model and migration repeats KINDS; keep them in step."""
    import importlib.util

    from market.config import ROOT
    from market.ledger import models

    path = ROOT / "migrations" / "versions" / "0002_ledger.py"
    spec = importlib.util.spec_from_file_location("m0002", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    quoted = lambda names: ",".join(f"'{n}'" for n in names)  # noqa: E731
    guarded = [k for k, (_, may) in KINDS.items() if not may]
    debit_normal = [k for k, (sign, _) in KINDS.items() if sign == 1]
    assert models.KIND_LIST == migration.KINDS == quoted(KINDS)
    assert models.GUARDED_KIND_LIST == migration.GUARDED == quoted(guarded)
    assert models.CODE_CHECK == migration.CODE_CHECK
    assert f"kind IN ({', '.join(repr(k) for k in debit_normal)})" in migration.FUNCTIONS
