"""The regulator scope rule for oversight reads (DESIGN.md §1), until market/region_scope.py lands.

A record lies in a regulator's region when its generator's region, its pickup region or its
operator's region starts with the regulator's prefix. The names and signatures are those of
market/region_scope.py (being written on another branch), so switching is an import change.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, exists, or_
from sqlalchemy.orm import aliased

from market.accounts.models import Organisation
from market.orders.models import Order


def region_matches(column, prefix: str) -> ColumnElement[bool]:
    """The region code in `column` lies under `prefix` (LIKE-escaped)."""
    return column.startswith(prefix, autoescape=True)


def org_in_region(org_id_column, prefix: str) -> ColumnElement[bool]:
    """The organisation whose id is in `org_id_column` lies under `prefix`."""
    org = aliased(Organisation)
    return exists().where(org.id == org_id_column, region_matches(org.region_code, prefix))


def order_in_region(prefix: str, order=Order) -> ColumnElement[bool]:
    """An order (or an alias of Order): its generator's, its pickup or its operator's region."""
    return or_(org_in_region(order.generator_id, prefix), region_matches(order.region_code, prefix),
               org_in_region(order.operator_id, prefix))
