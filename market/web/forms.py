"""The base form of every web form, and glue between WTForms and domain validation errors."""
from __future__ import annotations

from decimal import Decimal

from flask import flash, has_request_context, redirect, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import DecimalField, FloatField, IntegerField, StringField, TextAreaField

from market.errors import DomainError, NotFound, OrganisationSuspended
from market.web.inputs import LINE_BREAK, MAX_ID

# Beyond these a typed number is a typing error or an attack, never a quantity, price or id.
MAX_DECIMAL = Decimal(10) ** 12


def _finite_number(field, parse):
    """Wrap a number field's parser: NaN, infinities and absurd magnitudes are a field error."""
    def process_formdata(valuelist):
        parse(valuelist)
        value = field.data
        if value is None:
            return
        bad = (not value.is_finite() or abs(value) >= MAX_DECIMAL) if isinstance(value, Decimal) \
            else (value != value or abs(value) > MAX_ID)  # float NaN/inf, int beyond an id
        if bad:
            field.data = None  # validators that compare must not see it
            raise ValueError(_("Enter an ordinary number."))
    return process_formdata


def _one_line(field, parse):
    """Wrap a one-line text field's parser: a line break (which could reach a header) is an error."""
    def process_formdata(valuelist):
        parse(valuelist)
        if isinstance(field.data, str) and LINE_BREAK.search(field.data):
            raise ValueError(_("This field must be on one line."))
    return process_formdata


# A form posted by a button named REFINE is a step within the form, not its submission: a waste
# search, a waste code chosen from the results ("pick:HW08:900-214-08"), the region picker's next
# level. The form is drawn again with everything typed kept, and nothing is validated or saved.
# It is how the pages' helpers work without JavaScript (with it, static/js/inputs.js does the same
# in the page).
REFINE = "_refine"
PICK = "pick:"


class Form(FlaskForm):
    """Every web form derives from this (tests/web/test_hostile_inputs.py checks).

    Text is checked for every request by market.web.inputs; here, every number field refuses
    NaN, infinities and magnitudes no quantity, price or id can have, and every one-line text
    field (all but text areas) refuses line breaks, with a message on the field.
    A post by a REFINE button is a step within the form (validate_on_submit is False, no errors).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        step = self.refine_step
        if step.startswith(PICK) and hasattr(self, "category") and hasattr(self, "waste_code"):
            category, _sep, code = step[len(PICK):].partition(":")
            self.category.data, self.waste_code.data = category.strip(), code.strip()

    @property
    def refine_step(self) -> str:
        """The REFINE button's value when this post is a step within the form, else ""."""
        if not has_request_context() or request.method != "POST":
            return ""
        return (request.form.get(REFINE) or "").strip()

    @property
    def refining(self) -> bool:
        return bool(self.refine_step)

    def validate_on_submit(self, extra_validators=None) -> bool:
        if self.refining:
            return False
        return super().validate_on_submit(extra_validators=extra_validators)

    class Meta(FlaskForm.Meta):
        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            if isinstance(field, (DecimalField, FloatField, IntegerField)):
                field.process_formdata = _finite_number(field, field.process_formdata)
            elif isinstance(field, StringField) and not isinstance(field, TextAreaField):
                field.process_formdata = _one_line(field, field.process_formdata)
            return field


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


def all_errors(form) -> str:
    """Every error of the form, each with its field's label, for one flash message.

    Forms that redirect after posting (flash_outcome) report every problem at once, like the
    forms drawn again with their summary (templates/_forms.html form_errors).
    """
    problems = []
    for name, errors in form.errors.items():
        label = getattr(form, name).label.text if hasattr(form, name) else name
        problems += [f"{label}: {e}" for e in errors]
    return " · ".join(problems) or _("The form expired; reload the page and try again.")


def flash_outcome(call, success: str, back: str, *, form=None):
    """Run a service; flash its refusal or the success message; redirect back either way.

    A `form` given is validated first: when invalid, all its errors are flashed and the service
    is not run. NotFound propagates: another organisation's record stays a 404, never a flashed
    message; so does OrganisationSuspended, a 403 that says so on every write.
    """
    if form is not None and not form.validate_on_submit():
        flash(all_errors(form), "error")
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
