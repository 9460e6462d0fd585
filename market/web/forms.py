"""Glue between WTForms and domain validation errors."""
from __future__ import annotations

from flask import flash, redirect

from market.errors import DomainError, NotFound


def attach_error(form, exc: DomainError, field_map: dict[str, str] | None = None) -> None:
    """Show a service's refusal next to the form field it names, or above the form."""
    name = (field_map or {}).get(exc.field, exc.field)
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [exc.message]
    else:
        form.form_errors.append(exc.message)


def flash_outcome(call, success: str, back: str):
    """Run a service; flash its refusal or the success message; redirect back either way.

    NotFound propagates: another organisation's record stays a 404, never a flashed message.
    """
    try:
        call()
    except NotFound:
        raise
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(success, "success")
    return redirect(back)
