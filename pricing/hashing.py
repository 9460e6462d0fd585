"""Canonical serialisation and the two publication hashes (parameters, inputs).

Canonical form: JSON, keys sorted, no whitespace (``","`` and ``":"``), UTF-8 without escapes;
dataclasses as objects of their fields, enums by value, dates ISO 8601, Decimals in plain
normalised notation (``"3.5"``, ``"100"``) and Fractions as ``"n/d"`` strings, sets and frozensets
sorted, tuples as arrays. Floats are refused: nothing hashed may depend on binary rounding.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from functools import lru_cache
from typing import Any, Iterable


@lru_cache(maxsize=None)
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return _plain(value.value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        raise TypeError("floats are not hashed; use int, Decimal or Fraction")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, dict):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=canonical_json)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    raise TypeError(f"cannot serialise {type(value).__name__} canonically")


_SIMPLE = (int, str, bool, type(None))


def canonical_json(value: Any) -> str:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # the hot path of inputs_hash: a flat record, its plain fields left as they are
        plain = {}
        for name in _field_names(type(value)):
            field = getattr(value, name)
            plain[name] = field if type(field) in _SIMPLE else _plain(field)
    else:
        plain = _plain(value)
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(value: Any) -> str:
    """Hex sha256 of the canonical JSON of value (UTF-8)."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def inputs_hash(observations: Iterable[Any]) -> str:
    """Hex sha256 of a set of observations, independent of their order.

    Each observation becomes one canonical JSON line; the lines are sorted (code-point order,
    which is UTF-8 byte order) and hashed, each followed by a newline. Equal multisets of
    observations give equal hashes; a changed, added or removed line changes it.
    """
    digest = hashlib.sha256()
    for line in sorted(canonical_json(o) for o in observations):
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def params_hash(config: Any) -> str:
    return sha256_of(config)
