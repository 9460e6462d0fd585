"""Catalog loading: reference data, all-or-nothing waste-code import, the import-codes command."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from market import db
from market.audit.models import AuditEvent
from market.catalog.models import DisposalMethod, Region, WasteCategory, WasteCode, WasteSynonym
from market.catalog.services import import_waste_codes, load_reference_data
from market.errors import ValidationFailed

HEADER = "category,industry,code,description,hazard\n"
SAMPLE_CODES = {"900-214-08", "900-249-08", "900-252-12", "336-064-17", "772-002-18",
                "900-039-49", "900-041-49", "900-047-49"}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _codes() -> dict[str, WasteCode]:
    db.session.expire_all()
    return {c.code: c for c in db.session.scalars(select(WasteCode))}


def synthetic_codes(n_per_category: int = 3) -> str:
    """SYNTHETIC codes built from the format rules (NNN-NNN-NN, last two digits = category number).

    They are not official codes; they only exercise the importer.
    """
    cats = list(db.session.scalars(select(WasteCategory.code).order_by(WasteCategory.code)))
    lines = [HEADER.strip()]
    for cat in cats:
        for i in range(n_per_category):
            lines.append(f"{cat},合成行业,{900 + i}-{901 + i:03d}-{cat[2:]},合成测试代码 {cat} #{i},T/In")
    return "\n".join(lines) + "\n"


def test_reference_data_is_loaded_and_loading_again_changes_nothing():
    before = {m: _count(m) for m in (WasteCategory, Region, DisposalMethod, WasteCode, WasteSynonym)}
    assert before == {WasteCategory: 46, Region: 3217, DisposalMethod: 27, WasteCode: 8, WasteSynonym: 122}
    counts = load_reference_data()
    assert counts == {"categories": 46, "methods": 27, "regions": 3217, "synonyms": 122}
    counts = load_reference_data()
    after = {m: _count(m) for m in (WasteCategory, Region, DisposalMethod, WasteCode, WasteSynonym)}
    assert after == before
    codes = _codes()
    assert set(codes) == SAMPLE_CODES
    assert all(c.is_sample for c in codes.values())
    assert codes["900-041-49"].hazards == ["T", "In"]
    assert db.session.get(Region, "440306").parent_code == "440300"
    assert db.session.get(WasteCategory, "HW08").name


def test_reference_data_restores_a_damaged_row():
    db.session.get(WasteCategory, "HW08").name = "wrong"
    db.session.flush()
    load_reference_data()
    db.session.expire_all()
    assert db.session.get(WasteCategory, "HW08").name != "wrong"


def test_one_bad_line_imports_nothing_and_the_error_lists_every_bad_line():
    good = synthetic_codes(1).splitlines()  # header + 46 synthetic rows; bad lines become 6, 7, last
    bad_text = "\n".join(good[:5] + [
        "HW08,合成行业,9002140-8,格式错误,T",
        "HW08,合成行业,900-901-09,后缀与类别不符,T",
    ] + good[5:] + ["HW08,合成行业,900-902-08,未知特性,X"]) + "\n"
    before = _codes()
    audits = _count(AuditEvent)
    with pytest.raises(ValidationFailed) as err:
        import_waste_codes(bad_text)
    assert _codes().keys() == before.keys()
    assert all(c.is_sample for c in _codes().values())
    assert _count(AuditEvent) == audits
    msg = err.value.message
    assert "3 bad line(s), nothing imported" in msg
    last = len(bad_text.splitlines())
    assert "line 6: code '9002140-8' is not of the form NNN-NNN-NN" in msg
    assert "line 7: code 900-901-09 ends in 09 but its category is HW08" in msg
    assert f"line {last}: hazard X not in T, C, I, R, In" in msg
    assert err.value.field == "file"


def test_a_good_synthetic_list_imports_every_row_and_replaces_the_samples():
    text = synthetic_codes(3)
    result = import_waste_codes(text)
    assert len(result.rows) == 46 * 3
    codes = _codes()
    assert len(codes) == 46 * 3
    assert not (SAMPLE_CODES & codes.keys())
    assert not any(c.is_sample for c in codes.values())
    c = codes["900-901-08"]
    assert (c.category_code, c.hazards, c.industry) == ("HW08", ["T", "In"], "合成行业")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "catalog.codes_imported")
                               .order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.changes["count"] == 46 * 3
    # the sample list is not loaded again over an official list
    load_reference_data()
    assert _codes().keys() == codes.keys()


def test_an_official_list_keeps_a_sample_code_it_contains_as_official():
    text = HEADER + ("HW08,非特定行业,900-214-08,车辆、机械维修和拆解过程中产生的废润滑油,T/I\n"
                     "HW08,合成行业,900-901-08,合成测试代码（非官方）,T\n")
    import_waste_codes(text)
    codes = _codes()
    assert set(codes) == {"900-214-08", "900-901-08"}
    assert codes["900-214-08"].is_sample is False


def test_reimporting_the_same_list_is_idempotent():
    text = synthetic_codes(2)
    import_waste_codes(text)
    first = {k: (v.description, v.hazards) for k, v in _codes().items()}
    import_waste_codes(text)
    assert {k: (v.description, v.hazards) for k, v in _codes().items()} == first


def test_cli_import_codes_refuses_a_bad_file_and_prints_each_bad_line(app, tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text(HEADER + "HW08,合成行业,900-901-08,合成测试代码,T\n"
                    "HW08,合成行业,9002140-8,格式错误,T\n"
                    "HW08,合成行业,900-903-08,,\n", "utf-8")
    before = _codes().keys()
    result = app.test_cli_runner().invoke(args=["catalog", "import-codes", str(path)])
    assert result.exit_code == 1
    out = result.output
    assert "2 bad line(s), nothing imported" in out
    assert "line 3: code '9002140-8' is not of the form NNN-NNN-NN" in out
    assert "line 4:" in out and "hazard is empty" in out and "description is empty" in out
    assert _codes().keys() == before


def test_cli_import_codes_imports_a_good_file_with_a_bom(app, tmp_path):
    path = tmp_path / "codes.csv"
    path.write_bytes(("\ufeff" + synthetic_codes(1)).encode("utf-8"))
    result = app.test_cli_runner().invoke(args=["catalog", "import-codes", str(path)])
    assert result.exit_code == 0, result.output
    assert "46 waste codes imported" in result.output
    assert len(_codes()) == 46


def test_cli_import_codes_refuses_a_file_that_is_not_utf8(app, tmp_path):
    path = tmp_path / "codes.csv"
    path.write_bytes(("category,industry,code,description,hazard\n"
                      "HW08,非特定行业,900-214-08,废矿物油,T\n").encode("gb18030"))
    result = app.test_cli_runner().invoke(args=["catalog", "import-codes", str(path)])
    assert result.exit_code == 1
    assert "not UTF-8" in result.output
