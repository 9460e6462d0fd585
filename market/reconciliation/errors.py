"""Typed refusals of reconciliation (mapped to HTTP statuses by market.errors)."""
from __future__ import annotations

from market.errors import Conflict, InvalidState, ValidationFailed


class FileRefused(ValidationFailed):
    code = "statement_refused"


class AlreadyImported(Conflict):
    code = "already_imported"


class DaySignedOff(InvalidState):
    code = "day_signed_off"


class AlreadyResolved(InvalidState):
    code = "already_resolved"
