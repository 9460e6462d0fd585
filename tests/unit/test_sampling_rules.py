"""Pure sampling rules: the state table with its actors, physical ranges, profile flags."""
from __future__ import annotations

from decimal import Decimal

import pytest

from market.sampling import profile, state
from market.sampling.analytes import ANALYTES, display, parse_value, range_problem


def test_the_table_names_only_known_states_and_actors():
    for (frm, to), actors in state.TRANSITIONS.items():
        assert frm in state.SAMPLING_STATUSES and to in state.SAMPLING_STATUSES
        assert actors and set(actors) <= set(state.ACTORS)


def test_the_lab_does_the_work_and_the_gate_closes():
    path = [("requested", "accepted"), ("accepted", "sample_collected"),
            ("sample_collected", "reported")]
    for frm, to in path:
        assert state.allowed_actors(frm, to) == {"lab"}, (frm, to)
    assert state.allowed_actors("reported", "closed") == {"system"}
    assert state.problem("reported", "closed", "operator") == "actor_not_allowed"


def test_no_cancelling_once_the_sample_is_taken():
    for frm in ("sample_collected", "reported", "closed", "cancelled"):
        assert state.problem(frm, "cancelled", "admin") == "invalid_transition"
    for frm in ("requested", "accepted"):
        assert state.voids_fee(frm)
        assert set(state.next_states(frm, "generator")) == {"cancelled"}
        assert "cancelled" in state.next_states(frm, "lab")
    assert not state.voids_fee("sample_collected")


@pytest.mark.parametrize("code, ok, bad", [
    ("ph", ["0", "14", "7.25"], ["-0.1", "14.01"]),
    ("halogens", ["0", "100"], ["-1", "100.5"]),
    ("water", ["55.5"], ["101"]),
    ("sulphur", ["2"], ["-0.0001"]),
    ("flash_point", ["-50", "400", "23"], ["-50.1", "401"]),
    ("calorific_value", ["0", "60"], ["60.1", "-1"]),
    ("Pb", ["0", "250000"], ["-3", "1000001"]),
])
def test_physical_ranges(code, ok, bad):
    for raw in ok:
        assert range_problem(code, parse_value(raw)) is None, raw
    for raw in bad:
        assert range_problem(code, parse_value(raw)) in ("below", "above"), raw


def test_values_are_finite_numbers_with_at_most_four_decimals():
    for raw in ("abc", "", "NaN", "Infinity", None, True, "1e5000x"):
        assert parse_value(raw) is None, raw
    assert parse_value("1,234.5") == Decimal("1234.5")
    assert range_problem("ph", Decimal("7.12345")) == "decimals"
    assert range_problem("ph", Decimal("7.1230")) is None
    assert display(Decimal("7.2000")) == "7.2" and display(Decimal("100.0000")) == "100"


def test_every_analyte_has_a_unit_and_metals_are_mg_per_kg():
    assert {a.unit for a in ANALYTES.values() if a.metal} == {"mg/kg"}
    assert set(ANALYTES) >= {"ph", "calorific_value", "halogens", "sulphur", "water", "flash_point",
                             "Pb", "Cd", "Cr", "Hg", "As", "Ni", "Cu", "Zn"}


def _flags(declared, **values):
    return {(f.analyte, f.rule) for f in profile.flags(declared, {k: Decimal(v) for k, v in values.items()})}


def test_profile_flags_follow_the_documented_rule():
    liquid_ti = profile.Declared(form="liquid", hazards=("T", "I"))
    solid = profile.Declared(form="solid", hazards=())
    assert _flags(liquid_ti, halogens="2", Pb="1000", flash_point="30", ph="7") == set()
    assert _flags(liquid_ti, halogens="2.01") == {("halogens", "halogen_high")}
    assert _flags(liquid_ti, Hg="20.5", Zn="4999") == {("Hg", "metal_above_threshold")}
    assert _flags(solid, flash_point="59.9") == {("flash_point", "ignitable_undeclared")}
    assert _flags(solid, ph="2") == {("ph", "corrosive_undeclared")}
    assert _flags(solid, ph="12.5") == {("ph", "corrosive_undeclared")}
    assert _flags(profile.Declared("solid", ("C",)), ph="1") == set()
    assert _flags(solid, water="50.1") == {("water", "wetter_than_declared")}
    assert _flags(liquid_ti, water="90") == set()


def test_metal_thresholds_are_configurable():
    declared = profile.Declared(form="liquid", hazards=())
    values = {"Pb": Decimal("500")}
    assert profile.flags(declared, values) == []
    assert [f.rule for f in profile.flags(declared, values, {"Pb": 400})] == ["metal_above_threshold"]
