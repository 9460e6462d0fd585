"""market.accounts.policies: credit codes, licence validity, scan types."""
from __future__ import annotations

from datetime import date

import pytest

from market.accounts.policies import (licence_validity_problem, normalise_credit_code,
                                      sniff_scan_type)
from market.demo import credit_code

# serial = the 9-character organisation code (positions 9-17)
VALID = [credit_code("440306", "MA5D12345"), credit_code("110108", "000000A1X"),
         credit_code("440300", "X12345678"), credit_code("310115", "T00000042")]


@pytest.mark.parametrize("code", VALID)
def test_valid_credit_codes_are_accepted_and_canonical(code):
    assert len(code) == 18
    assert normalise_credit_code(code) == code


def test_a_real_published_credit_code_is_accepted():
    # Huawei Technologies Co., Ltd., as printed on its business licence.
    assert normalise_credit_code("914403001922038216") == "914403001922038216"


def test_spaces_dashes_and_lower_case_are_normalised():
    code = credit_code("440306", "MA5D12345")
    messy = f" {code[:6]}-{code[6:12].lower()} {code[12:].lower()} "
    assert normalise_credit_code(messy) == code


def _with_last(code: str, ch: str) -> str:
    return code[:-1] + ch


@pytest.mark.parametrize("value", [VALID[0][:-1], VALID[0] + "0", "", "91440300"])
def test_wrong_length_is_refused_with_the_reason(value):
    with pytest.raises(ValueError, match="18 characters"):
        normalise_credit_code(value)


@pytest.mark.parametrize("code", VALID)
def test_every_wrong_check_character_is_refused(code):
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for ch in alphabet:
        if ch == code[-1]:
            continue
        with pytest.raises(ValueError, match="check character"):
            normalise_credit_code(_with_last(code, ch))


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V", "i", "o", "z", "s", "v"])
def test_letters_outside_the_gb32100_alphabet_are_refused(letter):
    """I, O, Z, S, V are not used in credit codes (upper or lower case); the reason is the format."""
    body = "91440306MA5D1" + letter + "345"
    assert len(body) == 17
    with pytest.raises(ValueError, match="characters a credit code cannot have"):
        normalise_credit_code(body + "0")


def test_letters_in_the_first_eight_positions_are_refused():
    code = credit_code("440306", "MA5D12345")
    with pytest.raises(ValueError, match="characters a credit code cannot have"):
        normalise_credit_code("9A" + code[2:])


# -- licence validity ------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, valid_from, valid_to", [
    ("comprehensive", date(2024, 1, 1), date(2028, 12, 31)),
    ("comprehensive", date(2024, 1, 1), date(2029, 1, 1)),   # exactly five years
    ("comprehensive", date(2024, 1, 1), date(2024, 1, 1)),   # one day
    ("collection", date(2024, 3, 15), date(2027, 3, 15)),    # exactly three years
    ("comprehensive", date(2024, 2, 29), date(2029, 2, 28)),  # leap day start
])
def test_licence_validity_within_the_legal_term_is_fine(kind, valid_from, valid_to):
    assert licence_validity_problem(kind, valid_from, valid_to) is None


@pytest.mark.parametrize("kind, valid_from, valid_to, years", [
    ("comprehensive", date(2024, 1, 1), date(2029, 1, 2), 5),
    ("comprehensive", date(2024, 1, 1), date(2034, 1, 1), 5),
    ("collection", date(2024, 3, 15), date(2027, 3, 16), 3),
    ("collection", date(2024, 1, 1), date(2028, 12, 31), 3),  # a comprehensive term, too long here
    ("comprehensive", date(2024, 2, 29), date(2029, 3, 1), 5),
])
def test_licence_validity_longer_than_the_legal_term_is_refused(kind, valid_from, valid_to, years):
    problem = licence_validity_problem(kind, valid_from, valid_to)
    assert problem is not None
    assert f"at most {years} years" in problem


def test_reversed_validity_dates_are_refused():
    problem = licence_validity_problem("collection", date(2025, 6, 1), date(2025, 5, 31))
    assert problem is not None and "before" in problem


def test_unknown_licence_kind_is_refused():
    problem = licence_validity_problem("temporary", date(2025, 1, 1), date(2025, 6, 1))
    assert problem is not None and "kind" in problem


# -- scan types ------------------------------------------------------------------------------------

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01"


@pytest.mark.parametrize("head, mime", [(PDF, "application/pdf"), (PNG, "image/png"),
                                        (JPEG, "image/jpeg"), (b"\xff\xd8\xff\xdb\x00C", "image/jpeg")])
def test_scan_type_is_judged_by_magic_bytes(head, mime):
    assert sniff_scan_type(head) == mime


@pytest.mark.parametrize("head", [
    "许可证扫描件.pdf — really a text file".encode(),  # a text file renamed .pdf
    b"PDF-1.7 not at the start",
    b" %PDF-1.7",                                       # magic must be at offset 0
    b"GIF89a\x01\x00",
    b"PK\x03\x04",                                      # a .docx/.zip
    b"\x89PNG\r\n",                                     # truncated PNG signature
    b"",
])
def test_other_content_is_not_a_scan(head):
    assert sniff_scan_type(head) is None


def test_a_text_file_named_pdf_is_refused_on_upload(app, tmp_path):
    """store_scan() judges by content, not by the file name."""
    import io

    from market.accounts.uploads import store_scan
    from market.errors import ValidationFailed
    app.config["UPLOAD_DIR"], old = str(tmp_path), app.config["UPLOAD_DIR"]
    try:
        stream = io.BytesIO(b"just some text, saved as licence.pdf\n")
        stream.name = "licence.pdf"
        with pytest.raises(ValidationFailed) as err:
            store_scan(stream)
        assert err.value.field == "scan"
        assert list(tmp_path.iterdir()) == []
        name, mime = store_scan(io.BytesIO(PDF + b"rest"))
        assert mime == "application/pdf" and name.endswith(".pdf")
        assert (tmp_path / name).read_bytes() == PDF + b"rest"
    finally:
        app.config["UPLOAD_DIR"] = old
