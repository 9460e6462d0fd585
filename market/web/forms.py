"""Glue between WTForms and domain validation errors."""
from __future__ import annotations

from flask import flash, redirect
from flask_babel import gettext as _

from market.errors import DomainError, NotFound, OrganisationSuspended


def attach_error(form, exc: DomainError, field_map: dict[str, str] | None = None) -> None:
    """Show a service's refusal next to the form field it names, or above the form."""
    name = (field_map or {}).get(exc.field, exc.field)
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [exc.message]
    else:
        form.form_errors.append(exc.message)


def form_status(form) -> int:
    """422 when the form is shown again with errors, else 200."""
    return 422 if form.errors or form.form_errors else 200


def first_error(form) -> str:
    """The form's first error with its field's label, for a flash message."""
    for name, errors in form.errors.items():
        label = getattr(form, name).label.text if hasattr(form, name) else name
        return f"{label}: {errors[0]}"
    return _("The form expired; reload the page and try again.")


def flash_outcome(call, success: str, back: str, *, form=None):
    """Run a service; flash its refusal or the success message; redirect back either way.

    A `form` given is validated first: when invalid, its first error is flashed and the service
    is not run. NotFound propagates: another organisation's record stays a 404, never a flashed
    message; so does OrganisationSuspended, a 403 that says so on every write.
    """
    if form is not None and not form.validate_on_submit():
        flash(first_error(form), "error")
        return redirect(back)
    try:
        call()
    except (NotFound, OrganisationSuspended):
        raise
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(success, "success")
    return redirect(back)
