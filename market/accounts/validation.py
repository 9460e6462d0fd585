"""Rules of an organisation's registered fields, shared by registration, profile and changes."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.accounts.models import ORG_TYPES, Organisation
from market.accounts.policies import normalise_credit_code
from market.catalog.models import Region
from market.errors import ValidationFailed
from market.catalog import messages as catalog_messages


def validate_org_fields(name: str, credit_code: str, types: list[str], region_code: str,
                        latitude=None, longitude=None, exclude_id: int | None = None) -> str:
    """Check an organisation's fields; return the normalised credit code."""
    if not (name or "").strip():
        raise ValidationFailed(_("Name is required."), field="name")
    if len(name) > 200:
        raise ValidationFailed(_("Name must be at most 200 characters."), field="name")
    try:
        code = normalise_credit_code(credit_code or "")
    except ValueError as exc:
        raise ValidationFailed(_("Unified social credit code %(reason)s.", reason=_(str(exc))),
                               field="credit_code") from None
    clash = select(Organisation.id).where(Organisation.credit_code == code)
    if exclude_id:
        clash = clash.where(Organisation.id != exclude_id)
    if db.session.scalar(clash):
        raise ValidationFailed(_("An organisation with this credit code is already registered."),
                               field="credit_code")
    if not types or any(t not in ORG_TYPES for t in types):
        raise ValidationFailed(_("Choose at least one of generator, operator, carrier, lab."),
                               field="types")
    region = db.session.get(Region, region_code or "")
    if region is None:
        raise ValidationFailed(catalog_messages.unknown_region(region_code),
                               field="region_code")
    if (latitude is None) != (longitude is None):
        raise ValidationFailed(_("Give both latitude and longitude, or neither."), field="latitude")
    if latitude is not None and not (-90 <= float(latitude) <= 90):
        raise ValidationFailed(_("Latitude must be between -90 and 90."), field="latitude")
    if longitude is not None and not (-180 <= float(longitude) <= 180):
        raise ValidationFailed(_("Longitude must be between -180 and 180."), field="longitude")
    return code
