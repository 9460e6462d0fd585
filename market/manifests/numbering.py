"""Manifest numbers YYYYPPCCNNNNNN, gapless and unique per (year, city) under concurrency.

The serial is taken by one INSERT … ON CONFLICT DO UPDATE … RETURNING on the counter row: the
row lock it takes is held until the creating transaction ends, so a second creator in the same
city waits, and a creation that rolls back gives its serial back (no gap).
"""
from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert

from market import db
from market.manifests.models import ManifestCounter
from market.manifests.policies import city_code, manifest_number


def allocate(year: int, region_code: str) -> str:
    """The next number for the generator's region in `year`; call inside the use case."""
    city = city_code(region_code)
    stmt = insert(ManifestCounter).values(year=year, city_code=city, last_serial=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[ManifestCounter.year, ManifestCounter.city_code],
        set_={"last_serial": ManifestCounter.last_serial + 1},
    ).returning(ManifestCounter.last_serial)
    serial = db.session.execute(stmt).scalar_one()
    return manifest_number(year, city, serial)
