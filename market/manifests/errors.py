"""Typed errors of manifests (DESIGN.md §4 rule 8), mapped to HTTP like every DomainError."""
from __future__ import annotations

from market.errors import Conflict, InvalidState, PermissionDenied, ValidationFailed


class OrderNotFunded(InvalidState):
    code = "order_not_funded"


class CarrierNotAllowed(ValidationFailed):
    """Not a verified carrier, or its dangerous-goods permit is missing or expired."""
    code = "carrier_permit_invalid"


class ShippingLimitExceeded(ValidationFailed):
    code = "shipping_limit_exceeded"


class PartLocked(Conflict):
    code = "part_locked"


class DriverCodeRefused(PermissionDenied):
    code = "driver_code_invalid"


class MethodNotLicensed(ValidationFailed):
    code = "method_not_licensed"
