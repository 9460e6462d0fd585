"""Glue between WTForms and domain validation errors."""
from __future__ import annotations

from market.errors import ValidationFailed


def attach_error(form, exc: ValidationFailed, field_map: dict[str, str] | None = None) -> None:
    """Show a service's ValidationFailed next to the form field it names."""
    name = (field_map or {}).get(exc.field, exc.field)
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [exc.message]
    else:
        form.form_errors.append(exc.message)
