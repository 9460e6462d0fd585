"""pricing/: the parameters' and inputs' hashes, the methodology version, government-priced
categories and the data-quality note."""
from __future__ import annotations

import hashlib
from dataclasses import replace
from decimal import Decimal

import pytest

from pricing import (METHODOLOGY_VERSION, Config, canonical_json, compute, inputs_hash,
                     params_hash, sha256_of)
from tests.pricing_factories import obs, spread

DEFAULT_PARAMS_HASH = "33bfc24d45d216d19573735727372f4e8372c8f6598ceeaba186be7d4a1ab28b"


def test_the_default_parameters_hash_is_stable():
    # pinned: a changed default must be a deliberate methodology change (new version, new hash)
    assert Config().params_hash() == params_hash(Config()) == DEFAULT_PARAMS_HASH
    assert METHODOLOGY_VERSION == "1.0"


def test_every_parameter_is_in_the_hash_and_equal_values_hash_equal():
    base = Config()
    assert replace(base, p_percent=16).params_hash() != base.params_hash()
    assert replace(base, excluded_categories={"HW01"}).params_hash() != base.params_hash()
    assert replace(base, outlier_z=Decimal("3.50")).params_hash() == base.params_hash()
    assert Config(excluded_categories={"HW01", "HW03"}).params_hash() == \
        Config(excluded_categories=("HW03", "HW01")).params_hash()


def test_canonical_json_is_sorted_compact_and_refuses_floats():
    assert canonical_json({"b": Decimal("3.50"), "a": [1, "区"]}) == '{"a":[1,"区"],"b":"3.5"}'
    assert sha256_of({"a": 1}) == hashlib.sha256(b'{"a":1}').hexdigest()
    with pytest.raises(TypeError):
        canonical_json({"a": 0.1})


def test_the_inputs_hash_sees_every_field_but_not_the_order():
    lines = [obs(300_000, line_id=1), obs(310_000, line_id=2)]
    assert inputs_hash(lines) == inputs_hash(lines[::-1])
    assert inputs_hash(lines) != inputs_hash(lines[:1])
    assert inputs_hash(lines) != inputs_hash([lines[0], replace(lines[1], accepted_kg=1_001)])
    assert inputs_hash([]) == hashlib.sha256(b"").hexdigest()
    line = canonical_json(lines[0])
    assert line == canonical_json({name: getattr(lines[0], name)
                                   for name in lines[0].__dataclass_fields__})
    assert '"month":"2025-01-01"' in line and '"method_group":"D10"' in line
    assert inputs_hash(lines) == hashlib.sha256(
        "".join(sorted(canonical_json(o) + "\n" for o in lines)).encode()).hexdigest()


def test_a_publication_carries_version_hashes_and_a_data_quality_note():
    lines = spread(5) + [obs(1_000_000)] + spread(5, category="HW01", method="other")
    result = compute(lines, Config(excluded_categories={"HW01"}))
    assert (result.methodology_version, result.params_hash) == \
        ("1.0", Config(excluded_categories={"HW01"}).params_hash())
    assert result.inputs_hash == inputs_hash(lines)
    assert result.government_priced == tuple(o.line_id for o in lines[6:])
    assert [o.line_id for o in result.outliers] == [lines[5].line_id]
    q = result.quality
    assert (q.observations, q.kept, q.excluded) == \
        (11, 5, {"government_priced": 5, "outlier": 1})
    assert not any(k.category == "HW01" for k in result.stats)
    assert (q.cells, q.published, q.share_suppressed) == (8, 8, Decimal("0"))


def test_line_ids_must_be_unique():
    with pytest.raises(ValueError, match="line id"):
        compute([obs(300_000, line_id=7), obs(300_000, line_id=7)])


@pytest.mark.parametrize("field, value", [
    ("p_percent", 0), ("p_percent", 101), ("dominance_percent", 15.0), ("min_trades", 0),
    ("outlier_z", 3.5), ("mad_scale", Decimal("-1")), ("base_year", "2025"),
])
def test_a_config_refuses_nonsense(field, value):
    with pytest.raises(ValueError, match=field):
        Config(**{field: value})
