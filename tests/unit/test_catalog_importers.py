"""parse_waste_codes: pure validation of an official waste-code list (no database)."""
from __future__ import annotations

from market.catalog.importers import parse_waste_codes, read_csv_dicts
from market.catalog.services import DATA

# the 46 categories shipped in market/catalog/data (HW41-HW44 do not exist)
KNOWN = {r["category"] for r in read_csv_dicts((DATA / "hw_categories.csv").read_text("utf-8"))}
HEADER = "category,industry,code,description,hazard\n"

# Real codes from the shipped sample list (market/catalog/data/waste_codes_sample.csv).
GOOD = HEADER + (
    "HW08,非特定行业,900-214-08,车辆维修产生的废润滑油,T/I\n"
    "HW17,金属表面处理及热处理加工,336-064-17,表面处理废液,T/C\n"
    "HW49,非特定行业,900-041-49,沾染危险废物的包装物,T/In\n"
    "HW49,非特定行业,900-047-49,实验室废物,T/C/I/R\n"
)


def _errors(text):
    return dict(parse_waste_codes(text, KNOWN).errors)


def test_a_good_file_parses_every_row():
    result = parse_waste_codes(GOOD, KNOWN)
    assert result.ok and result.errors == []
    assert [r.code for r in result.rows] == ["900-214-08", "336-064-17", "900-041-49", "900-047-49"]
    first = result.rows[0]
    assert (first.category, first.industry, first.description) == ("HW08", "非特定行业", "车辆维修产生的废润滑油")
    assert first.hazards == ["T", "I"]
    assert result.rows[2].hazards == ["T", "In"]
    assert result.rows[3].hazards == ["T", "C", "I", "R"]


def test_a_byte_order_mark_and_blank_lines_are_tolerated():
    result = parse_waste_codes("\ufeff" + GOOD.replace("\nHW17", "\n\nHW17"), KNOWN)
    assert result.ok and len(result.rows) == 4


def test_a_wrong_header_is_reported_on_line_1_and_nothing_parses():
    text = "code,category,industry,description,hazard\n900-214-08,HW08,非特定行业,废润滑油,T/I\n"
    result = parse_waste_codes(text, KNOWN)
    assert not result.ok
    assert result.rows == []
    assert result.errors == [(1, "header must be category,industry,code,description,hazard")]


def test_an_empty_file_is_reported():
    assert not parse_waste_codes("", KNOWN).ok
    result = parse_waste_codes(HEADER, KNOWN)
    assert result.errors == [(1, "the file holds no codes")]


def test_a_code_without_the_nnn_nnn_nn_format_is_reported_with_its_line():
    text = GOOD + "HW08,非特定行业,9002140-8,格式错误的代码,T\n"
    errors = _errors(text)
    assert list(errors) == [6]
    assert "'9002140-8' is not of the form NNN-NNN-NN" in errors[6]


def test_a_code_whose_last_two_digits_are_not_the_category_number_is_reported():
    text = HEADER + "HW08,非特定行业,900-214-09,代码与类别不符,T\n" + GOOD[len(HEADER):]
    errors = _errors(text)
    assert list(errors) == [2]
    assert errors[2] == "code 900-214-09 ends in 09 but its category is HW08"


def test_an_unknown_hazard_letter_is_reported():
    errors = _errors(GOOD + "HW08,非特定行业,900-299-08,未知危险特性,T/X\n")
    assert list(errors) == [6]
    assert "hazard X not in T, C, I, R, In" in errors[6]


def test_an_empty_hazard_is_reported():
    errors = _errors(GOOD + "HW08,非特定行业,900-299-08,没有危险特性,\n")
    assert list(errors) == [6]
    assert "hazard is empty" in errors[6]


def test_lower_case_hazard_letters_are_not_accepted():
    errors = _errors(GOOD + "HW08,非特定行业,900-299-08,小写,t/i\n")
    assert "hazard t/i not in" in errors[6]


def test_a_duplicate_code_names_the_first_line():
    errors = _errors(GOOD + "HW08,非特定行业,900-214-08,重复的代码,T\n")
    assert errors == {6: "code 900-214-08 repeats line 2"}


def test_a_wrong_column_count_is_reported():
    errors = _errors(GOOD + "HW08,非特定行业,900-299-08,T\n" + "HW08,a,900-298-08,b,T,extra\n")
    assert errors == {6: "expected 5 columns, found 4", 7: "expected 5 columns, found 6"}


def test_an_unknown_or_malformed_category_is_reported():
    errors = _errors(GOOD + "HW41,非特定行业,900-299-41,已废止类别,T\n" + "H8,x,900-299-08,y,T\n")
    assert errors[6] == "category HW41 is not in the category table"
    assert "category 'H8' is not of the form HWnn" in errors[7]


def test_an_empty_description_is_reported():
    assert "description is empty" in _errors(GOOD + "HW08,非特定行业,900-299-08, ,T\n")[6]


def test_every_bad_line_is_reported_with_its_number_and_reason_and_good_rows_kept_apart():
    text = HEADER + "\n".join([
        "HW08,非特定行业,900-214-08,好的,T/I",          # 2 good
        "HW08,非特定行业,9002140-8,格式错,T",             # 3
        "HW08,非特定行业,900-214-09,后缀错,T",            # 4
        "HW08,非特定行业,900-215-08,危险特性错,X",        # 5
        "HW08,非特定行业,900-216-08,空危险特性,",         # 6
        "HW08,非特定行业,900-214-08,重复,T",              # 7
        "HW08,非特定行业,900-217-08",                     # 8
        "HW49,非特定行业,900-041-49,好的,T/In",          # 9 good
    ]) + "\n"
    result = parse_waste_codes(text, KNOWN)
    assert not result.ok
    lines = [n for n, _ in result.errors]
    assert lines == [3, 4, 5, 6, 7, 8]
    reasons = dict(result.errors)
    assert "NNN-NNN-NN" in reasons[3]
    assert "ends in 09" in reasons[4]
    assert "hazard X" in reasons[5]
    assert "hazard is empty" in reasons[6]
    assert "repeats line 2" in reasons[7]
    assert "expected 5 columns, found 3" in reasons[8]
    assert [r.code for r in result.rows] == ["900-214-08", "900-041-49"]


def test_a_quoted_description_with_commas_is_one_column():
    text = HEADER + 'HW08,非特定行业,900-214-08,"废矿物油, 含乳化液",T/I\n'
    result = parse_waste_codes(text, KNOWN)
    assert result.ok and result.rows[0].description == "废矿物油, 含乳化液"
