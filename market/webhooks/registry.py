"""Which objects webhooks carry: how each is shown (as the API shows it) and to whom.

The API modules register their object shapes here at import (market/api/webhooks.py), so this
context never imports the API layer: the registry is the seam between the two.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable


@dataclass(frozen=True)
class Source:
    object_type: str                           # the model's table name
    model: type
    serialise: Callable[[Any], dict]           # the object as GET /api/v1/… shows it
    orgs: Callable[[Any], Iterable[int]]       # organisations the object concerns
    # the regions a regulator's prefix is matched against (alerts: generator, pickup, operator)
    regions: Callable[[Any], Iterable[str | None]] | None = None


_SOURCES: dict[str, Source] = {}


def register(source: Source) -> None:
    _SOURCES[source.object_type] = source


def source_for(object_type: str) -> Source | None:
    return _SOURCES.get(object_type)
