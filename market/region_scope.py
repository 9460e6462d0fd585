"""One regulator scope for every page and endpoint (DESIGN.md §1).

A record lies in a regulator's region when its generator's region, its pickup region or its
operator's region starts with the regulator's prefix. Each function returns a SQLAlchemy clause for
one kind of record, so web pages, API endpoints and the checks on one loaded row all ask the
database the same question. Contracts, disputes and contract documents belong to an order and use
the order's clause; licences, permits and shops belong to one organisation and use its region.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import aliased

from market import db
from market.accounts.models import Organisation
from market.listings.models import DisposalRequest
from market.orders.models import Order
from market.sampling.models import SamplingOrder


def region_matches(column, prefix: str) -> ColumnElement[bool]:
    """The region code in `column` lies under `prefix` (LIKE-escaped)."""
    return column.startswith(prefix, autoescape=True)


# The subqueries use their own aliases, so they never correlate with a query that already joins
# the same tables (an order list joined to sampling orders, a scope joined to organisations).

def org_in_region(org_id_column, prefix: str) -> ColumnElement[bool]:
    """The organisation whose id is in `org_id_column` lies under `prefix`."""
    org = aliased(Organisation)
    return exists().where(org.id == org_id_column, region_matches(org.region_code, prefix))


def order_in_region(prefix: str, order=Order) -> ColumnElement[bool]:
    """An order (or an alias of Order): its generator's, its pickup or its operator's region."""
    return or_(org_in_region(order.generator_id, prefix), region_matches(order.region_code, prefix),
               org_in_region(order.operator_id, prefix))


def request_in_region(prefix: str) -> ColumnElement[bool]:
    """A posted disposal request: its generator's or its pickup region, or its awarded operator's.
    A draft is its generator's alone until posted."""
    order = aliased(Order)
    awarded = exists().where(order.request_id == DisposalRequest.id, order_in_region(prefix, order))
    return (DisposalRequest.status != "draft") & or_(
        org_in_region(DisposalRequest.generator_id, prefix),
        region_matches(DisposalRequest.region_code, prefix), awarded)


def sampling_in_region(prefix: str) -> ColumnElement[bool]:
    """A sampling order: its trade order's rule, or the region of the lab it was sent to."""
    order = aliased(Order)
    return or_(exists().where(order.id == SamplingOrder.order_id, order_in_region(prefix, order)),
               org_in_region(SamplingOrder.lab_id, prefix))


def holds(model, row_id: int, clause: ColumnElement[bool]) -> bool:
    """Whether the row of `model` with this id satisfies `clause` (one loaded record's check)."""
    pk = model.__mapper__.primary_key[0]
    return bool(db.session.scalar(select(exists().where(pk == row_id, clause))))


def order_covered(prefix: str | None, order_id: int) -> bool:
    return prefix is not None and holds(Order, order_id, order_in_region(prefix))


def request_covered(prefix: str | None, request_id: int) -> bool:
    return prefix is not None and holds(DisposalRequest, request_id, request_in_region(prefix))


def sampling_covered(prefix: str | None, sampling_id: int) -> bool:
    return prefix is not None and holds(SamplingOrder, sampling_id, sampling_in_region(prefix))


def province_of(prefix: str | None) -> str | None:
    """The province (the first two digits of the prefix) whose published price cells a regulator
    of `prefix` sees; None for platform staff (no prefix: the national roll-up). A prefix shorter
    than a province names no province's cells."""
    return prefix[:2] if prefix else None
