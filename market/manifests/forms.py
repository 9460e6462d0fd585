"""Forms of the manifest pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (DateTimeLocalField, HiddenField, IntegerField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class ManifestForm(FlaskForm):
    carrier_org_id = SelectField(_l("Carrier"), coerce=int, validators=[DataRequired()])
    vehicle_plate = StringField(_l("Vehicle plate"), validators=[DataRequired(), Length(max=12)])
    driver_name = StringField(_l("Driver"), validators=[DataRequired(), Length(max=50)])
    driver_phone = StringField(_l("Driver's mobile"), validators=[DataRequired(), Length(max=20)])
    driver_email = StringField(_l("Driver's e-mail (for the signing code)"),
                               validators=[Optional(), Length(max=254)])
    planned_pickup_at = DateTimeLocalField(_l("Planned pickup"), format="%Y-%m-%dT%H:%M",
                                           validators=[DataRequired()])
    quantity_kg = IntegerField(_l("Weight sent (kg)"), validators=[DataRequired(),
                                                                   NumberRange(min=1)])
    packaging = StringField(_l("Packaging"), validators=[Optional(), Length(max=100)])
    count = IntegerField(_l("Number of packages"), default=1,
                         validators=[DataRequired(), NumberRange(min=1)])

    def service_data(self) -> dict:
        return {"carrier_org_id": self.carrier_org_id.data, "vehicle_plate": self.vehicle_plate.data,
                "driver_name": self.driver_name.data, "driver_phone": self.driver_phone.data,
                "driver_email": self.driver_email.data,
                "planned_pickup_at": self.planned_pickup_at.data,
                "lines": [{"quantity_kg": self.quantity_kg.data, "packaging": self.packaging.data,
                           "count": self.count.data}]}


# Service field names → form field names, for errors shown next to the field.
MANIFEST_FIELD_MAP = {"lines": "quantity_kg", "lines[0].quantity_kg": "quantity_kg",
                      "lines[0].packaging": "packaging", "lines[0].count": "count"}


class SignForm(FlaskForm):
    role = HiddenField()


class DriverCodeForm(FlaskForm):
    send_to = StringField(_l("Send the code to (e-mail)"), validators=[Optional(), Length(max=254)])


class DriverSignForm(FlaskForm):
    code = StringField(_l("Six-digit code"), validators=[DataRequired(), Length(min=6, max=6)])


class ReceiveForm(FlaskForm):
    method_code = SelectField(_l("Disposal method"), validators=[DataRequired()])


class DiscrepancyForm(FlaskForm):
    action = HiddenField()
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])
    evidence = FileField(_l("Evidence (for a dispute)"))


class RefusalForm(FlaskForm):
    disposition = SelectField(_l("Refused waste goes"), choices=[
        ("return", _l("back to the generator (return manifest)")),
        ("new_destination", _l("to another licensed receiver"))])
    destination_org_id = IntegerField(_l("New receiver (organisation id)"),
                                      validators=[Optional()])
    return_manifest_id = IntegerField(_l("Return manifest (id)"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=1000)])
