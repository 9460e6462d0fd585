from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (DateField, DecimalField, EmailField, IntegerField, PasswordField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from market.accounts.models import OPERATIONS
from market.web.fields import RegionField, region_validators
from market.web.forms import Form


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _required():
    return DataRequired(message=_l("This field is required."))


def _email():
    # WTForms' Email validator needs the email_validator package, which is not installed, so every
    # form using it failed with a 500. A shape check; the e-mails we send prove the address.
    return Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter a valid e-mail address."))


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[_required(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[_required(), Length(max=200)])


class RegistrationForm(Form):
    name = StringField(_l("Organisation name"), validators=[_required(), Length(max=200)])
    credit_code = StringField(_l("Unified social credit code"), validators=[_required(), Length(max=18)])
    types = MultiCheckboxField(_l("Organisation type"), choices=[
        ("generator", _l("generator")), ("operator", _l("operator")),
        ("carrier", _l("carrier")), ("lab", _l("lab"))],
        validators=[_required()])
    region_code = RegionField(_l("Region"), validators=region_validators())
    address = StringField(_l("Address"), validators=[_required(), Length(max=300)])
    latitude = DecimalField(_l("Latitude"), places=6, validators=[Optional(), NumberRange(-90, 90)])
    longitude = DecimalField(_l("Longitude"), places=6, validators=[Optional(), NumberRange(-180, 180)])
    user_name = StringField(_l("Your name"), validators=[_required(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[_required(), _email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[_required(), Length(min=10, max=200)])


class ProfileForm(Form):
    name = StringField(_l("Organisation name"), validators=[_required(), Length(max=200)])
    credit_code = StringField(_l("Unified social credit code"), validators=[_required(), Length(max=18)])
    types = MultiCheckboxField(_l("Organisation type"), choices=[
        ("generator", _l("generator")), ("operator", _l("operator")),
        ("carrier", _l("carrier")), ("lab", _l("lab"))],
        validators=[_required()])
    region_code = RegionField(_l("Region"), validators=region_validators())
    address = StringField(_l("Address"), validators=[_required(), Length(max=300)])
    latitude = DecimalField(_l("Latitude"), places=6, validators=[Optional(), NumberRange(-90, 90)])
    longitude = DecimalField(_l("Longitude"), places=6, validators=[Optional(), NumberRange(-180, 180)])


class InviteForm(Form):
    email = EmailField(_l("E-mail"), validators=[_required(), _email(), Length(max=254)])


# How a change request's fields are named on its pages.
CHANGE_LABELS = {"name": _l("Organisation name"), "credit_code": _l("Unified social credit code"),
                 "types": _l("Organisation type"), "region_code": _l("Region code")}


class PlatformInviteForm(InviteForm):
    """An admin's invitation into the platform organisation names the role it grants."""
    platform_role = SelectField(_l("Platform role"), choices=[
        ("finance", _l("platform finance")), ("admin", _l("platform administrator"))],
        validators=[_required()])


class PlatformRoleForm(Form):
    user_id = IntegerField(validators=[_required(), NumberRange(1, 2**31 - 1)])
    platform_role = SelectField(_l("Platform role"), choices=[
        ("", _l("no platform role")), ("finance", _l("platform finance")),
        ("admin", _l("platform administrator"))], validators=[Optional()])


class ChangeDecisionForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[Length(max=1000)])


class AcceptInvitationForm(Form):
    name = StringField(_l("Your name"), validators=[_required(), Length(max=100)])
    password = PasswordField(_l("Password"), validators=[_required(), Length(min=10, max=200)])


class ResetRequestForm(Form):
    email = EmailField(_l("E-mail"), validators=[_required(), _email(), Length(max=254)])


class ResetPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[_required(), Length(min=10, max=200)])


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[_required(), Length(max=200)])
    new_password = PasswordField(_l("New password"), validators=[_required(), Length(min=10, max=200)])


class LicenceForm(Form):
    number = StringField(_l("Licence number"), validators=[_required(), Length(max=60)])
    kind = SelectField(_l("Kind"), choices=[("comprehensive", _l("comprehensive (5 years)")),
                                            ("collection", _l("collection only (3 years)"))])
    valid_from = DateField(_l("Valid from"), validators=[_required()])
    valid_to = DateField(_l("Valid to"), validators=[_required()])
    scan = FileField(_l("Scanned copy (PDF, JPEG or PNG, at most 10 MB)"))


class LicenceItemForm(Form):
    category_code = SelectField(_l("Waste category"), validators=[_required()])
    codes = StringField(_l("Waste codes (optional, comma separated)"), validators=[Length(max=2000)])
    operations = MultiCheckboxField(_l("Operations"), choices=[(o, o) for o in OPERATIONS],
                                    validators=[_required()])
    method_codes = MultiCheckboxField(_l("Methods"))
    approved_t_per_year = DecimalField(_l("Approved scale (t/year)"), places=3,
                                       validators=[_required(), NumberRange(min=0.001, max=10_000_000)])


class PermitForm(Form):
    number = StringField(_l("Number"), validators=[_required(), Length(max=60)])
    valid_from = DateField(_l("Valid from"), validators=[_required()])
    valid_to = DateField(_l("Valid to"), validators=[_required()])
    scan = FileField(_l("Scanned copy (PDF, JPEG or PNG, at most 10 MB)"))


class ReasonForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[Length(max=1000)])


class CorporateGroupForm(Form):
    corporate_group = StringField(_l("Corporate group"), validators=[Length(max=200)])


class EmptyForm(Form):
    """CSRF token only, for buttons that post."""


class AuditFilterForm(Form):
    class Meta:
        csrf = False

    action = StringField(_l("Action"), validators=[Optional(), Length(max=80)])
    object_type = StringField(_l("Object"), validators=[Optional(), Length(max=60)])
    object_id = StringField(_l("Object id"), validators=[Optional(), Length(max=60)])
    actor = IntegerField(_l("Actor user id"), validators=[Optional(), NumberRange(min=1)])
    organisation = StringField(_l("Organisation (name or id)"), validators=[Optional(), Length(max=200)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
